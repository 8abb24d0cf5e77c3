"""Snapshots of the main screens at 80×24, in Chinese and in English, with the clock
fixed (tests/kiosk/conftest.py) so the pictures are stable. One class per screen.

Regenerate after an intended change: pytest tests/kiosk/app/test_snapshots.py --snapshot-update
"""

import pytest

from schema.wire import ResidentRec
from tests.kiosk.app.conftest import open_resident, sign_in, type_text
from tests.kiosk.fakeserver import CARD

LANGS = pytest.mark.parametrize("lang", ["zh", "en"])
SIZE = (80, 24)


class TestSignIn:
    @LANGS
    def test_sign_in(self, snap_compare, make_app, lang):
        assert snap_compare(make_app(lang=lang), terminal_size=SIZE)


class TestFind:
    @LANGS
    def test_results_table(self, snap_compare, make_app, server, shop_kiosk, lang):
        for n, name in enumerate(("李华明", "李小红", "李[宝]"), start=3):  # brackets: shown, not markup
            server.put("resident", f"510181000000{n}", ResidentRec(card=f"510181000000{n}", name=name,
                       phone_tail=f"55{n:02d}", community="C002", status="active"))
        assert shop_kiosk.sync().ok

        async def before(pilot):
            await sign_in(pilot)
            await type_text(pilot, "李")
            await pilot.press("enter")

        assert snap_compare(make_app(lang=lang), terminal_size=SIZE, run_before=before)


class TestResident:
    @LANGS
    def test_resident_with_history(self, snap_compare, make_app, shop_kiosk, lang):
        shop_kiosk.award(CARD, "V01", "op1", "扫雪")
        shop_kiosk.redeem(CARD, [("TOWEL", 2)], "op1")

        async def before(pilot):
            await sign_in(pilot)
            await open_resident(pilot, CARD)

        assert snap_compare(make_app(lang=lang), terminal_size=SIZE, run_before=before)


class TestRedeem:
    @LANGS
    def test_basket(self, snap_compare, make_app, lang):
        async def before(pilot):
            await sign_in(pilot)
            await open_resident(pilot, CARD)
            await pilot.press("f3")
            for sku in ("OIL", "TOWEL", "TOWEL"):
                await type_text(pilot, sku)
                await pilot.press("enter")

        assert snap_compare(make_app(lang=lang), terminal_size=SIZE, run_before=before)


class TestReceipt:
    @LANGS
    def test_award_receipt(self, snap_compare, make_app, lang):
        async def before(pilot):
            await sign_in(pilot)
            await open_resident(pilot, CARD)
            await pilot.press("f2")
            await type_text(pilot, "V01")
            await pilot.press("enter", "enter")

        assert snap_compare(make_app(lang=lang), terminal_size=SIZE, run_before=before)
