"""The words an operator would use: a month reads 2026年12月 (December 2026 in English)
wherever the kiosk shows one, and a deduction's receipt reads 扣 5 分, never -5."""

import pytest

from kiosk.i18n import month_text
from schema.wire import BoardLine, BoardRec
from tests.kiosk.app.conftest import burst, signed_in, typed
from tests.kiosk.fakeserver import CARD


@pytest.mark.parametrize(("month", "lang", "text"), [
    ("2026-12", "zh", "2026年12月"), ("2026-01", "zh", "2026年1月"), ("2026-12", "en", "December 2026"),
    ("2026-13", "zh", "2026-13"),  # no such month: shown as it is
])
def test_month_as_people_write_it(month, lang, text):
    assert month_text(month, lang) == text


async def test_the_board_month_on_the_resident_view(run, server, shop_kiosk, clock):
    server.put("board", "C001/2026-12", BoardRec(community="C001", month="2026-12", published=clock(), ranked=9,
                                                 top=[BoardLine(rank=3, card=CARD, name="张*明", points=32)]))
    assert shop_kiosk.sync().ok
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"))
        rank = str(app.screen.query_one("#rank").render())
        assert "2026年12月榜" in rank and "2026-12" not in rank
        await burst(pilot, "f12")
        assert "December 2026 board" in str(app.screen.query_one("#rank").render())


async def test_a_deductions_receipt_says_how_much_was_taken(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"), "f2", *typed("P01\n"))
        await burst(pilot, "enter")  # yes, once the question is up
        assert type(app.screen).__name__ == "ReceiptScreen"
        shown = str(app.screen.query_one("#receipt").render())
        saved = (shop_kiosk.settings.data_dir / "receipts" / f"{app.screen.receipt.event_id}.txt").read_text()
        for text in (shown, saved):
            assert "扣 5 分" in text and "-5" not in text and "100 → 95" in text


async def test_an_awards_receipt_says_how_much_was_added(run, shop_kiosk):
    app, ctx = run(lang="en")
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"), "f2", *typed("V01\n"))
        await burst(pilot, "enter")
        assert "+10 points" in str(app.screen.query_one("#receipt").render())
