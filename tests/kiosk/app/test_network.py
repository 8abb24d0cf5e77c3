"""The app under network trouble: the server down and coming back mid-session, a server
that hangs, and a kiosk revoked by central staff. Recording never waits on the network,
the screens keep answering, and the status bar says what is happening."""

import threading

import httpx

from kiosk.app import SyncDone
from tests.kiosk.app.conftest import SIZE, open_resident, screen_name, sign_in, type_text
from tests.kiosk.fakeserver import CARD


async def _award(pilot, rule: str = "V01") -> None:
    await pilot.press("f2")
    await type_text(pilot, rule)
    await pilot.press("enter", "enter")
    await pilot.pause()
    await pilot.press("escape")


async def _sync(app, pilot) -> None:
    await pilot.press("f5")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_server_down_then_back_mid_session(make_app, server, shop_kiosk):
    done: list[SyncDone] = []
    app = make_app()
    server.down = True
    async with app.run_test(size=SIZE, message_hook=lambda m: done.append(m) if isinstance(m, SyncDone) else None) as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await _sync(app, pilot)
        assert done[-1].outcome.result.problem == "offline"
        line, warning = app.status_lines()
        assert "离线" in line and "连不上服务器" in warning
        await _award(pilot)  # recording goes on while the server is down
        assert shop_kiosk.balance(CARD).pending == 10
        assert "未同步 1 条" in app.status_lines()[0]

        server.down = False  # the network comes back
        await _sync(app, pilot)
        assert done[-1].outcome.result.ok
        line, warning = app.status_lines()
        assert "在线" in line and "未同步 0 条" in line and warning == ""
        assert server.balances[CARD] == 110
        assert "已确认 110 分" in str(app.screen.query_one("#balance").render())


async def test_back_off_grows_while_down_and_resets(make_app, server):
    app = make_app(auto_sync=True)
    server.down = True
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.backoff.failures == 1
        await _sync(app, pilot)
        assert app.backoff.failures == 2 and app.backoff.next_delay(False) == 20.0
        server.down = False
        await _sync(app, pilot)
        assert app.backoff.failures == 0


async def test_hanging_server_does_not_freeze_the_counter(make_app, server, shop_kiosk):
    gate = threading.Event()

    def slow(request):
        gate.wait(10)  # the network hangs until the test lets go
        return server.handle(request)

    shop_kiosk.enrolment.transport = httpx.MockTransport(slow)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await pilot.press("f5")
        await pilot.pause()
        assert app.syncing and "同步中" in app.status_lines()[0]
        await pilot.press("f5")  # a second press while one runs starts nothing new
        await _award(pilot)  # the screens still answer and recording still works
        assert shop_kiosk.balance(CARD).pending == 10
        assert screen_name(app) == "ResidentScreen"
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.syncing


async def test_revoked_kiosk_says_so_and_stops_recording(make_app, server, shop_kiosk):
    app = make_app(lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        server.revoked = True
        await _sync(app, pilot)
        assert app.revoked and "revoked" in app.status_lines()[1]
        await open_resident(pilot, CARD)
        await pilot.press("f2")  # disabled: nothing opens
        await pilot.pause()
        assert screen_name(app) == "ResidentScreen"
        assert shop_kiosk.store.recent_events(1) == []


async def test_a_transaction_is_uploaded_soon_without_pressing_sync(make_app, server, shop_kiosk, monkeypatch):
    import asyncio

    import kiosk.app

    monkeypatch.setattr(kiosk.app, "SYNC_AFTER_RECORD", 0.05)
    app = make_app(auto_sync=True)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()  # the round at start-up: online, next one in a minute
        await pilot.pause()
        assert app.backoff.failures == 0
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await _award(pilot)
        for _ in range(100):
            await asyncio.sleep(0.02)
            await app.workers.wait_for_complete()
            if server.balances[CARD] == 110:
                break
        assert server.balances[CARD] == 110
        assert shop_kiosk.status()["pending_events"] == 0
