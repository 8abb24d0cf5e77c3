"""The counter with a resident from another community (issue 10, "the resident in front of
the counter"; issue 11, Medium 6) against the real server app in process: a card this
kiosk does not mirror, scanned as one burst of keys, is looked up online and opened, and
can be served offline afterwards; the resident view shows the whole history from the
server with the confirmed balance it adds up to, and offline says it shows only this
kiosk's records."""

from kiosk.app import KioskApp
from server.services.manage import get_resident
from server.services.staff import SYSTEM
from tests.kiosk.app.conftest import SIZE, burst, message_text, screen_name, signed_in, typed
from tests.server.conftest import CARD_A, CARD_B


async def settle(app, pilot) -> None:
    """Every worker done and its message handled (a lookup's answer opens the resident
    view, whose mount asks for the history: two rounds)."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def hint(app) -> str:
    return str(app.screen.query_one("#history_hint").render())


def history_rows(app) -> list[list[str]]:
    table = app.screen.query_one("#history")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_a_scanned_card_of_another_community_is_looked_up_and_opened(inprocess_kiosk, app_server):
    svc = inprocess_kiosk("k1", lang="zh")
    assert svc.resident(CARD_B) is None  # S01 serves SQ01 only; CARD_B lives in SQ02
    confirmed = get_resident(app_server.ctx, SYSTEM, CARD_B)["confirmed"]
    app = KioskApp(svc, lang="zh", auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD_B + "\n"))  # a scanner: the whole code and Enter at once
        await settle(app, pilot)
        assert screen_name(app) == "ResidentScreen" and app.screen.card == CARD_B
        assert "外社区居民" in message_text(app)
        assert f"已确认 {confirmed} 分" in str(app.screen.query_one("#balance").render())
        assert f"合计确认积分 {confirmed} 分" in hint(app)

        app_server.stop()  # the network goes: the visitor is still served, from the kiosk's own disk
        await burst(pilot, "f2", *typed("ZYFW\n"))
        await burst(pilot, "enter")
        assert screen_name(app) == "ReceiptScreen"
    assert svc.balance(CARD_B).available == confirmed + 10


async def test_an_unknown_card_is_said_plainly(inprocess_kiosk):
    svc = inprocess_kiosk("k1", lang="zh")
    app = KioskApp(svc, lang="zh", auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed("9999999999999\n"))
        await settle(app, pilot)
        assert screen_name(app) == "FindScreen" and "找不到居民卡号 9999999999999" in message_text(app)


async def test_a_card_scanned_with_the_server_gone_says_it_cannot_be_looked_up(inprocess_kiosk, app_server):
    svc = inprocess_kiosk("k1", lang="zh")
    app_server.stop()
    app = KioskApp(svc, lang="zh", auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD_B + "\n"))
        await settle(app, pilot)
        assert screen_name(app) == "FindScreen"
        assert "连不上服务器，无法在线查询" in message_text(app)


async def test_the_whole_history_online_and_this_kiosks_records_offline(inprocess_kiosk, app_server):
    other, svc = inprocess_kiosk("other", shop="S02"), inprocess_kiosk("k1", lang="zh")
    other.look_up(CARD_A)
    other.award(CARD_A, "ZYFW", "op2")  # at another shop: this kiosk has no record of it
    assert other.sync().ok
    svc.award(CARD_A, "ZYFW", "op1")  # here, not synced yet
    confirmed = get_resident(app_server.ctx, SYSTEM, CARD_A)["confirmed"]
    app = KioskApp(svc, lang="zh", auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD_A + "\n"))
        await settle(app, pilot)
        assert f"合计确认积分 {confirmed} 分" in hint(app)
        rows = history_rows(app)
        assert "待同步" in rows[0]  # this kiosk's own record the server does not have yet, on top
        assert any(other.kiosk_id in " ".join(r) for r in rows)  # the other shop's entry
        assert sum(int(r[3]) for r in rows[1:]) == confirmed  # the server's entries add up

        await burst(pilot, "escape")
        app_server.stop()
        await burst(pilot, *typed(CARD_A + "\n"))
        await settle(app, pilot)
        assert screen_name(app) == "ResidentScreen"
        assert hint(app) == "离线：仅显示本机记录，不完整"
        assert len(history_rows(app)) == 1  # only what this kiosk recorded
        await burst(pilot, "f12")
        assert hint(app) == "Offline: this kiosk's own records only, not complete"
