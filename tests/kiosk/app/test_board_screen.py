"""The public board at the counter, against the real server app (in process): two
residents of one name awarded at this kiosk, the board published by staff, pulled with
the next sync; F4 on the home screen shows it with each resident told apart by the card's
last four, in Chinese, and never a whole name or card."""

from kiosk.app import KioskApp
from kiosk.i18n import month_text
from server.services import reports
from server.services.manage import put_resident
from server.services.staff import SYSTEM
from server.store import catalog
from sync.board import board_name, mask_name
from sync.calendar import local_month
from tests.kiosk.app.conftest import SIZE, burst, message_text, screen_name, signed_in
from tests.server.conftest import CARD_A

TWIN = "5106810100999"


def board_rows(app) -> list[tuple[str, str, str]]:
    table = app.screen.query_one("#board")
    return [tuple(str(c) for c in table.get_row(key)) for key in table.rows]


async def test_f4_shows_the_board_with_residents_told_apart_by_their_cards_last_four(inprocess_kiosk, app_server, clock):
    ctx = app_server.ctx
    with ctx.store.read() as db:
        name = catalog.row_by_key(db, "residents", CARD_A)["name"]
    put_resident(ctx, SYSTEM, TWIN, name, "13800001234", "SQ01")
    svc = inprocess_kiosk("k1", lang="zh")
    app = KioskApp(svc, lang="zh", auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, "f4")
        assert screen_name(app) == "BoardScreen"
        assert board_rows(app) == [] and "还没有从中心收到积分榜" in message_text(app)
        await burst(pilot, "escape")

        for card in (CARD_A, TWIN, TWIN):
            svc.award(card, "ZYFW", "op1")
        assert svc.sync().ok
        month = local_month(clock())
        reports.publish_board(ctx, SYSTEM, month)
        await burst(pilot, "f5")  # the operator syncs: the board comes with the pull
        await app.workers.wait_for_complete()
        await pilot.pause()

        await burst(pilot, "f4")
        assert screen_name(app) == "BoardScreen"
        rows = board_rows(app)
        first, twin = board_name(name, CARD_A), board_name(name, TWIN)
        assert [r[:2] for r in rows] == [("1", twin), ("2", first)] and twin != first
        assert twin == f"{mask_name(name)}（…0999）"
        head = str(app.screen.query_one("#board-head").render())
        assert f"龙居社区 {month_text(month, 'zh')}积分榜" in head and "共 2 人上榜" in head
        text = head + "".join("".join(r) for r in rows)
        assert name not in text and CARD_A not in text and TWIN not in text

        await burst(pilot, "f12")  # English: the same board, the same names
        assert board_rows(app)[0][1] == twin and "ranked" in str(app.screen.query_one("#board-head").render())
        await burst(pilot, "escape")
        assert screen_name(app) == "FindScreen"
