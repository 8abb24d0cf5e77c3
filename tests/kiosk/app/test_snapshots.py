"""Snapshots of the main screens in Chinese and in English, with the clock fixed
(tests/kiosk/conftest.py) so the pictures are stable. One class per screen; the home,
resident, redeem and receipt screens at both 80×24 and 120×40, the redeem screen with a goods name
of 20 Chinese characters (its price and stock stay on screen).

Regenerate after an intended change: pytest tests/kiosk/app/test_snapshots.py --snapshot-update
"""

import pytest
from textual.widgets import Input

from schema.wire import CommunityRec, GoodRec, ResidentRec
from tests.kiosk.app.conftest import open_resident, sign_in, type_text
from tests.kiosk.fakeserver import CARD

LANGS = pytest.mark.parametrize("lang", ["zh", "en"])
SIZE = (80, 24)
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
LONG_NAME = "特级压榨一级花生油家庭装五升桶装限量供应"  # 20 characters, 40 cells


async def steady(pilot) -> None:
    """The input cursor drawn solid: a blinking one is caught at either phase."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


@pytest.fixture
def communities(server, shop_kiosk):
    """Communities mirrored, so screens show their names (never the codes)."""
    server.put("community", "C001", CommunityRec(id="C001", name="龙居社区", street="雒城街道"))
    server.put("community", "C002", CommunityRec(id="C002", name="金雁社区", street="金雁街道"))
    assert shop_kiosk.sync().ok


class TestSignIn:
    @LANGS
    def test_sign_in(self, snap_compare, make_app, lang):
        assert snap_compare(make_app(lang=lang), terminal_size=SIZE, run_before=steady)


class TestFind:
    @SIZES
    @LANGS
    def test_results_table(self, snap_compare, make_app, server, shop_kiosk, communities, lang, size):
        for n, name in enumerate(("李华明", "李小红", "李[宝]"), start=3):  # brackets: shown, not markup
            server.put("resident", f"510181000000{n}", ResidentRec(card=f"510181000000{n}", name=name,
                       phone_tail=f"55{n:02d}", community="C002", status="active"))
        assert shop_kiosk.sync().ok

        async def before(pilot):
            await sign_in(pilot)
            await type_text(pilot, "李")
            await pilot.press("enter")

            await steady(pilot)

        assert snap_compare(make_app(lang=lang), terminal_size=size, run_before=before)


class TestResident:
    @SIZES
    @LANGS
    def test_resident_with_history(self, snap_compare, make_app, shop_kiosk, communities, lang, size):
        shop_kiosk.award(CARD, "V01", "op1", "扫雪")
        shop_kiosk.redeem(CARD, [("TOWEL", 2)], "op1")

        async def before(pilot):
            await sign_in(pilot)
            await open_resident(pilot, CARD)

            await steady(pilot)

        assert snap_compare(make_app(lang=lang), terminal_size=size, run_before=before)


class TestRedeem:
    @SIZES
    @LANGS
    def test_basket(self, snap_compare, make_app, server, shop_kiosk, lang, size):
        server.put("good", "PEANUT", GoodRec(sku="PEANUT", name=LONG_NAME, unit="桶", price=80, status="active"))
        server.set_stock("PEANUT", 7)
        assert shop_kiosk.sync().ok

        async def before(pilot):
            await sign_in(pilot)
            await open_resident(pilot, CARD)
            await pilot.press("f3")
            for sku in ("PEANUT", "TOWEL", "TOWEL"):
                await type_text(pilot, sku)
                await pilot.press("enter")

            await steady(pilot)

        assert snap_compare(make_app(lang=lang), terminal_size=size, run_before=before)


class TestReceipt:
    @LANGS
    @SIZES
    def test_award_receipt(self, snap_compare, make_app, lang, size):
        async def before(pilot):
            await sign_in(pilot)
            await open_resident(pilot, CARD)
            await pilot.press("f2")
            await type_text(pilot, "V01")
            await pilot.press("enter", "enter")

            await steady(pilot)

        assert snap_compare(make_app(lang=lang), terminal_size=size, run_before=before)

    @LANGS
    @SIZES
    def test_offline_receipt_with_the_printer_unplugged(self, snap_compare, make_app, server, shop_kiosk, lang, size):
        """Marked 待同步, the printer's failure said, F4 to print again."""
        from dataclasses import replace

        server.down = True
        assert not shop_kiosk.sync().ok
        shop_kiosk.settings = replace(shop_kiosk.settings, printer="tcp:127.0.0.1:9")

        async def before(pilot):
            await sign_in(pilot)
            await open_resident(pilot, CARD)
            await pilot.press("f2")
            await type_text(pilot, "V01")
            await pilot.press("enter", "enter")
            await pilot.app.workers.wait_for_complete()
            await steady(pilot)

        assert snap_compare(make_app(lang=lang), terminal_size=size, run_before=before)


class TestShiftClose:
    @SIZES
    @LANGS
    def test_counting(self, snap_compare, make_app, server, shop_kiosk, lang, size):
        """Names, not codes; the count field names the goods it counts."""
        shop_kiosk.award(CARD, "V01", "op1")
        shop_kiosk.redeem(CARD, [("OIL", 1)], "op1")

        async def before(pilot):
            await sign_in(pilot)
            pilot.app.service.store.set_meta(shift_start_kseq=1)
            await pilot.press("f8")
            await type_text(pilot, "8")
            await pilot.press("enter")
            await steady(pilot)

        assert snap_compare(make_app(lang=lang), terminal_size=size, run_before=before)
