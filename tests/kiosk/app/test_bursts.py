"""Keys typed or scanned as one burst land where the operator sees focus next.

``burst`` (tests/kiosk/app/conftest.py) posts every key to the app back to back with no
pause, as a barcode scanner or a fast typist delivers them; ``pilot.press`` waits for the
app between keys and would hide the defect. Every screen that takes a code is driven this way.
"""

import pytest

from schema.wire import ResidentRec
from tests.kiosk.app.conftest import OP, OP_PIN, SUP, SUP_PIN, burst, message_text, screen_name, signed_in, typed
from tests.kiosk.fakeserver import CARD, CARD2

HAIYAN1, HAIYAN2 = "5101810000011", "5101810000012"


@pytest.fixture
def two_haiyan(shop_kiosk, server):
    for card, name in ((HAIYAN1, "王海燕"), (HAIYAN2, "刘海燕")):
        server.put("resident", card, ResidentRec(card=card, name=name, phone_tail="5555", community="C001",
                                                 status="active"))
    assert shop_kiosk.sync().ok
    return shop_kiosk


async def test_sign_in_typed_at_once(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        assert app.operator.id == OP
        assert shop_kiosk.store.meta("signin_failures") in (None, "0", "{}")


async def test_sign_in_with_enter_between_fields(run):
    app, ctx = run()
    async with ctx as pilot:
        await burst(pilot, *typed(f"{OP}\n{OP_PIN}\n"))
        assert screen_name(app) == "FindScreen" and app.operator.id == OP


async def test_scan_on_a_result_list_opens_the_scanned_card(run, two_haiyan):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed("海燕\n"))
        assert app.screen.query_one("#results").row_count == 2 and app.focused.id == "results"
        await burst(pilot, *typed(CARD2 + "\n"))  # another resident's card, scanned on the list
        assert screen_name(app) == "ResidentScreen" and app.screen.card == CARD2


async def test_scan_then_scan_again_from_the_home_screen(run, two_haiyan):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"), "escape", *typed(CARD2 + "\n"))
        assert screen_name(app) == "ResidentScreen" and app.screen.card == CARD2


async def test_enter_on_the_list_still_opens_the_highlighted_row(run, two_haiyan):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed("海燕\n"))
        second = [row.value for row in app.screen.query_one("#results").rows][1]
        await burst(pilot, "down", "enter")
        assert screen_name(app) == "ResidentScreen" and app.screen.card == second


async def test_goods_received_typed_at_once(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f6", *typed("OIL\n5\nRICE\n12\n"))
        assert screen_name(app) == "StockInScreen" and app.screen.lines == {"OIL": 5, "RICE": 12}
        assert app.focused.id == "sku" and app.focused.value == ""


async def test_redeem_scans_while_the_goods_list_has_focus(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"), "f3", *typed("TOWEL\nOIL\n"))
        assert app.screen.basket == {"TOWEL": 1, "OIL": 1}
        await burst(pilot, *typed("大\n"))  # a name fragment: the goods list takes focus
        assert app.focused.id == "goods"
        await burst(pilot, *typed("TOWEL\n"))  # scanned while the list has focus: towel, not rice
        assert app.screen.basket == {"TOWEL": 2, "OIL": 1}


async def test_award_by_scanned_rule_code_while_the_rule_list_has_focus(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"), "f2", "enter")  # Enter on the query: the rule list takes focus
        assert app.focused.id == "rules"
        await burst(pilot, *typed("P01\n"))
        assert screen_name(app) == "ConfirmScreen" and "乱扔垃圾" in str(app.screen.query_one("#question").render())


async def test_a_question_is_not_answered_by_keys_typed_before_it_appeared(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        # the scanner's CR LF after the rule code: the second Enter must not say yes
        await burst(pilot, *typed(CARD + "\n"), "f2", *typed("V01\n\n"))
        assert screen_name(app) == "ConfirmScreen" and posted == []
        await burst(pilot, "enter")
        assert [m.kind for m in posted] == ["award"] and screen_name(app) == "ReceiptScreen"


async def test_supervisor_typed_at_once(run, posted, shop_kiosk):
    shop_kiosk.award(CARD, "V01", "op1")
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f7", "enter", *typed("录错了\n"), *typed(f"{SUP}\n{SUP_PIN}\n"))
        assert [m.kind for m in posted] == ["void"]


async def test_shift_counts_typed_down_the_shelf(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f8", *typed("7\n3\n"))
        skus = [row.value for row in app.screen.query_one("#stock").rows]
        assert [app.screen.counted.get(s) for s in skus[:2]] == [7, 3]


async def test_shift_close_in_one_burst_resets_the_screen(run, shop_kiosk):
    """Counting the shelf as one burst and closing the shift: every count lands on its row,
    the report is saved, and the counts typed at once after the yes are the new shift's."""
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f8", *typed("7\n3\n"), "f10")
        await pilot.pause()  # the question is answered only by a key typed once it is on screen
        await burst(pilot, "enter", *typed("5\n"))
        assert len(list((shop_kiosk.settings.data_dir / "shifts").glob("shift-*.txt"))) == 1
        skus = [row.value for row in app.screen.query_one("#stock").rows]
        assert app.screen.counted == {skus[0]: 5}  # the count after closing is the new shift's


SCREENS_WITH_FIELDS = [
    ([], "op", "op1"),  # sign-in
    (["SIGNIN"], "q", "海燕"),  # find
    (["SIGNIN", *typed(CARD + "\n"), "f2"], "q", "V0"),  # award
    (["SIGNIN", *typed(CARD + "\n"), "f3"], "q", "TOW"),  # redeem
    (["SIGNIN", "f6"], "sku", "RI"),  # goods received
    (["SIGNIN", "f7", "enter"], "reason", "录错"),  # void
    (["SIGNIN", "f8"], "count", "12"),  # shift close: the count field has the focus
]


@pytest.mark.parametrize(("before", "field", "text"), SCREENS_WITH_FIELDS)
async def test_f12_keeps_focus_and_what_was_typed(run, shop_kiosk, before, field, text):
    shop_kiosk.award(CARD, "V01", "op1")
    app, ctx = run()
    async with ctx as pilot:
        if before and before[0] == "SIGNIN":
            await signed_in(pilot)
            before = before[1:]
        await burst(pilot, *before)
        await burst(pilot, *typed(text), "f12", "x")
        assert app.lang == "en"
        assert app.focused is not None and app.focused.id == field
        assert app.focused.value == text + "x"
        await burst(pilot, "f12")
        assert app.lang == "zh" and app.focused.id == field and app.focused.value == text + "x"


async def test_codes_typed_full_width_or_padded_find_the_same_rows(run, shop_kiosk):
    full_width_card = "".join(chr(ord(c) + 0xFEE0) for c in CARD)
    app, ctx = run()
    async with ctx as pilot:
        await burst(pilot, *typed("ＯＰ１\t1234\n"))
        assert screen_name(app) == "FindScreen" and app.operator.id == OP
        await burst(pilot, *typed("\u3000" + full_width_card + "\n"))
        assert screen_name(app) == "ResidentScreen" and app.screen.card == CARD
        await burst(pilot, "f3", *typed("ｔｏｗｅｌ\n"))
        assert app.screen.basket == {"TOWEL": 1}
        await burst(pilot, "escape")  # the basket is not empty: asks first
        await burst(pilot, "enter")
        await burst(pilot, "escape", "f6", *typed("ｏｉｌ\n５\n"))
        assert app.screen.lines == {"OIL": 5}


async def test_an_operator_id_that_is_no_id_says_what_one_looks_like(run):
    app, ctx = run()
    async with ctx as pilot:
        await burst(pilot, *typed("张 三\t1234\n"))
        assert screen_name(app) == "SignInScreen" and "例如 op1" in message_text(app)


async def test_ctrl_q_asks_first_while_records_are_unsynced(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "ctrl+q")
        assert not app.is_running  # nothing unsynced: closes at once
    shop_kiosk.award(CARD, "V01", "op1")
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "ctrl+q")
        assert screen_name(app) == "ConfirmScreen" and "1 条记录没有同步" in str(app.screen.query_one("#question").render())
        await burst(pilot, "escape")
        assert app.is_running and screen_name(app) == "FindScreen"
        await burst(pilot, "ctrl+q")
        await burst(pilot, "enter")
        assert not app.is_running


async def test_a_deduction_asks_in_the_operators_words(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"), "f2", *typed("P01\n"))
        question = str(app.screen.query_one("#question").render())
        assert "扣 5 分" in question and "-5" not in question
