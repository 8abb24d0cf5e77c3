"""The status bar follows the server within seconds: a health probe on a short interval (in
a worker, backing off while the server is gone) notices the real in-process server going
away and coming back, long before the next 60-second sync, and a server that is back gets
what is waiting at once. A revoked kiosk says so in its status line and its key bar."""

import asyncio

from kiosk.app import KioskApp, ProbeDone
from kiosk.background import probe_backoff
from server.services.manage import revoke_kiosk
from server.services.staff import SYSTEM
from tests.kiosk.app.conftest import SIZE

PROBE = 0.1  # seconds between probes in these tests (3 s in the kiosk)


async def until(pilot, test, seconds: float = 5.0) -> None:
    """Let the app run until ``test()`` holds; fail after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not test():
        assert loop.time() < deadline, "the status bar did not change in time"
        await pilot.pause(0.05)


async def test_the_status_bar_notices_the_server_going_away_and_coming_back_in_seconds(inprocess_kiosk, app_server):
    svc = inprocess_kiosk("k1", lang="zh")
    probes: list[bool] = []
    app = KioskApp(svc, lang="zh", auto_sync=False, probe_every=PROBE)
    async with app.run_test(size=SIZE, message_hook=lambda m: probes.append(m.up) if isinstance(m, ProbeDone) else None) as pilot:
        await until(pilot, lambda: app.server_up is True and "在线" in app.status_lines()[0])

        app_server.stop()  # the server goes away
        await until(pilot, lambda: "离线" in app.status_lines()[0])
        assert "连不上服务器" in app.status_lines()[1]
        assert app.backoff.failures == 0 and not app.syncing  # no sync round was needed to notice

        app_server.start()  # and comes back
        await until(pilot, lambda: "在线" in app.status_lines()[0] and app.status_lines()[1] == "")
        assert False in probes and probes[-1] is True


async def test_a_server_that_comes_back_gets_what_was_recorded_meanwhile(inprocess_kiosk, app_server):
    svc = inprocess_kiosk("k1", lang="zh")
    card = svc.store._rows("SELECT card FROM residents WHERE status = 'active' ORDER BY card LIMIT 1")[0]["card"]
    app = KioskApp(svc, lang="zh", auto_sync=False, probe_every=PROBE)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.server_up is True)
        app_server.stop()
        await until(pilot, lambda: app.server_up is False)
        svc.award(card, "ZYFW", "op1")  # recorded while the server is away
        app.refresh_status()
        assert "未同步 1 条" in app.status_lines()[0]
        app_server.start()
        await until(pilot, lambda: "未同步 0 条" in app.status_lines()[0])  # synced at once, not in 60 s


async def test_a_revoked_kiosk_says_so_in_its_status_and_key_bar(inprocess_kiosk, app_server):
    svc = inprocess_kiosk("k1", lang="zh")
    revoke_kiosk(app_server.ctx, SYSTEM, svc.kiosk_id)
    app = KioskApp(svc, lang="zh", auto_sync=False, probe_every=PROBE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await until(pilot, lambda: app.revoked)
        line, warning = app.status_lines()
        assert "已停用" in line and "在线" not in line and "停用" in warning
        await pilot.pause()
        keys = {k.description for k in app.screen.query("FooterKey")}
        assert "本机已停用" in keys
        await pilot.press("f12")
        await pilot.pause()
        assert "revoked" in app.status_lines()[0]
        assert "Kiosk revoked" in {k.description for k in app.screen.query("FooterKey")}


async def test_a_kiosk_not_revoked_shows_no_revoked_key(inprocess_kiosk):
    app = KioskApp(inprocess_kiosk("k1", lang="zh"), lang="zh", auto_sync=False, probe_every=PROBE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "本机已停用" not in {k.description for k in app.screen.query("FooterKey")}


def test_the_probe_backs_off_while_the_server_is_gone():
    b = probe_backoff()
    assert b.next_delay(True) == 3.0
    assert [b.next_delay(False) for _ in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert b.next_delay(True) == 3.0
