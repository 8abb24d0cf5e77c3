"""The counter's flows end to end through the keyboard: find (scan, name, phone tail),
award and deduct, redeem, receipt, void with a supervisor, goods received, shift close,
and bad input. Assertions are on the service's state and the messages the app posts."""

import pytest

from tests.kiosk.app.conftest import SUP, SUP_PIN, message_text, open_resident, screen_name, sign_in, type_text
from tests.kiosk.fakeserver import CARD, CARD2


async def test_scanned_card_opens_resident_and_second_enter_does_nothing(run):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await type_text(pilot, CARD)
        await pilot.press("enter", "enter")  # the scanner's CR LF
        await pilot.pause()
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["FindScreen", "ResidentScreen"]
        assert "已确认 100 分" in str(app.screen.query_one("#balance").render())
        assert "本月社区排名：—" in str(app.screen.query_one("#rank").render())


async def test_name_fragment_lists_and_phone_tail_opens(run):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await type_text(pilot, "晓")  # partial name, one match: opened directly
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "ResidentScreen" and app.screen.card == CARD
        await pilot.press("escape")
        await open_resident(pilot, "1234")  # phone tail of 李华
        assert app.screen.card == CARD2


async def test_unknown_card_and_garbage_give_a_message(run):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await open_resident(pilot, "[bold]'; DROP")
        assert screen_name(app) == "FindScreen" and "没有找到" in message_text(app)


async def test_award_double_enter_records_once_with_receipt(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await pilot.press("f2")
        await type_text(pilot, "V01")
        await pilot.press("enter")  # one rule left: asks to confirm
        await pilot.pause()
        assert screen_name(app) == "ConfirmScreen"
        await pilot.press("enter", "enter", "enter")  # impatient operator
        await pilot.pause()
        assert [m.event_id for m in posted] == ["K0001-1"]
        assert shop_kiosk.balance(CARD).available == 110
        assert screen_name(app) == "ReceiptScreen"
        receipt = app.screen.receipt
        assert (receipt.before, receipt.after, receipt.event_id) == (100, 110, "K0001-1")
        saved = (shop_kiosk.settings.data_dir / "receipts" / "K0001-1.txt").read_text()
        assert saved.rstrip().endswith(receipt.link) and "100 → 110" in saved and "张*明" in saved
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(app) == "ResidentScreen"
        assert "待同步 +10 分" in str(app.screen.query_one("#balance").render())


async def test_prohibited_rule_deducts_and_escape_cancels(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await pilot.press("f2")
        await type_text(pilot, "乱扔")
        await pilot.press("enter")
        await pilot.press("escape")  # cancelled: nothing recorded
        await pilot.pause()
        assert posted == [] and screen_name(app) == "AwardScreen"
        await pilot.press("f10", "enter")
        await pilot.pause()
        assert shop_kiosk.balance(CARD).pending == -5 and len(posted) == 1


async def test_redeem_basket_with_quantities(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await pilot.press("f3")
        for sku in ("TOWEL", "towel", "OIL"):  # scanned twice (any case), then oil
            await type_text(pilot, sku)
            await pilot.press("enter")
        await pilot.pause()
        assert app.screen.basket == {"TOWEL": 2, "OIL": 1}
        assert "合计 60 分 / 可用 100 分" in str(app.screen.query_one("#total").render())
        await pilot.press("f10", "enter")
        await pilot.pause()
        assert [m.kind for m in posted] == ["redeem"]
        assert shop_kiosk.balance(CARD).available == 40
        assert shop_kiosk.stock_available()["TOWEL"] == 998
        assert (app.screen.receipt.before, app.screen.receipt.after) == (100, 40)


async def test_redeem_over_balance_is_refused_in_words(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await pilot.press("f3")
        for _ in range(3):
            await type_text(pilot, "OIL")
            await pilot.press("enter")
        await pilot.pause()
        assert "超出可用积分 50 分" in str(app.screen.query_one("#total").render())
        await pilot.press("f10", "enter")
        await pilot.pause()
        assert posted == [] and screen_name(app) == "RedeemScreen"
        assert "积分不足" in message_text(app)
        assert shop_kiosk.store.recent_events(1) == []


async def test_basket_keys_change_quantities(run):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        await pilot.press("f3")
        await type_text(pilot, "TOWEL")
        await pilot.press("enter", "tab", "tab")  # focus the basket
        await pilot.press("plus", "plus", "minus")
        assert app.screen.basket == {"TOWEL": 2}
        await pilot.press("delete")
        assert app.screen.basket == {}
        await pilot.press("f10")
        assert "购物篮是空的" in message_text(app)


async def test_void_needs_a_supervisor_and_reverses(run, posted, shop_kiosk):
    app, ctx = run()
    award = shop_kiosk.award(CARD, "V01", "op1").id
    async with ctx as pilot:
        await sign_in(pilot)
        await pilot.press("f7")
        await pilot.pause()
        await pilot.press("enter")  # the newest row: our award
        await pilot.press("enter")  # no reason yet
        assert "请填写撤销原因" in message_text(app)
        await type_text(pilot, "录错了")
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "SupervisorScreen"
        await type_text(pilot, "op1")  # an operator cannot approve
        await pilot.press("enter")
        await type_text(pilot, "1234")
        await pilot.press("enter")
        await pilot.pause()
        assert "不是主管" in str(app.screen.query_one("#sup-message").render())
        await pilot.press("escape")
        await pilot.pause()
        assert posted == []
        await pilot.press("f10")
        await pilot.pause()
        await type_text(pilot, SUP)
        await pilot.press("enter")
        await type_text(pilot, SUP_PIN)
        await pilot.press("enter")
        await pilot.pause()
        assert [m.kind for m in posted] == ["void"]
        assert shop_kiosk.store.void_of(award) == posted[0].event_id
        assert shop_kiosk.balance(CARD).pending == 0
        assert app.screen.receipt.target == award


async def test_goods_received(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await pilot.press("f6")
        await type_text(pilot, "NOPE")
        await pilot.press("enter")
        assert "没有这个商品" in message_text(app)
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "rice")
        await pilot.press("enter")
        await type_text(pilot, "0")
        await pilot.press("enter")
        assert "数量必须是" in message_text(app)
        await pilot.press("backspace")
        await type_text(pilot, "4")
        await pilot.press("enter", "f10", "enter")
        await pilot.pause()
        assert [m.kind for m in posted] == ["stock_in"]
        assert shop_kiosk.stock_available()["RICE"] == 5


async def test_shift_close_totals_counts_and_file(run, shop_kiosk):
    shop_kiosk.award(CARD, "V01", "op1")
    voided = shop_kiosk.award(CARD, "R01", "op1").id
    shop_kiosk.void(voided, "错", "op1")
    shop_kiosk.redeem(CARD, [("OIL", 1)], "op1")
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        # the shift opened at this first sign-in: events before it belong to no shift
        app.service.store.set_meta(shift_start_kseq=1)
        await pilot.press("f8")
        await pilot.pause()
        report = str(app.screen.query_one("#report").render())
        # names, not codes: the operator, the rule, the goods
        assert "刘阿姨：4 笔，加 10 分，扣 0 分，兑换 50 分，撤销 1 笔" in report
        assert "志愿服务" in report and "食用油" in report and "V01" not in report and "op1" not in report
        # the count field has the focus and names the goods the number is for
        assert app.screen.focused.id == "count"
        assert "食用油 实点数量（应有 9）" in app.screen.query_one("#count").placeholder
        await type_text(pilot, "8")
        await pilot.press("enter")
        assert app.screen.counted == {"OIL": 8}
        await pilot.press("f10", "enter")
        await pilot.pause()
        files = list((shop_kiosk.settings.data_dir / "shifts").glob("shift-K0001-*.txt"))
        assert len(files) == 1
        text = files[0].read_text()
        assert "食用油" in text and "-1" in text and "志愿服务" in text and "刘阿姨" in text
        assert shop_kiosk.store.meta("shift_start_kseq") == "5"
        # the screen starts over on the new shift: no counts, no totals, the count field ready
        assert app.screen.counted == {} and screen_name(app) == "ShiftScreen"
        report = str(app.screen.query_one("#report").render())
        assert "刘阿姨" not in report and "志愿服务" not in report
        assert app.screen.focused.id == "count" and app.screen.query_one("#stock").cursor_row == 0
        assert "交班报表已保存" in message_text(app)


async def test_shift_count_field_follows_the_arrow_keys(run, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await pilot.press("f8", "down")
        await pilot.pause()
        skus = [row.value for row in app.screen.query_one("#stock").rows]
        name = shop_kiosk.good(skus[1])["name"]
        assert app.screen.query_one("#count").placeholder.startswith(name)
        await type_text(pilot, "4")
        await pilot.press("enter", "up")
        await pilot.pause()
        assert app.screen.counted == {skus[1]: 4}  # counted, moved down to the next, and back up
        assert app.screen.query_one("#count").placeholder.startswith(name)


async def test_language_switch_keeps_what_was_typed(run):
    app, ctx = run()
    async with ctx as pilot:
        await sign_in(pilot)
        await type_text(pilot, "张")
        await pilot.press("f12")
        await pilot.pause()
        assert app.lang == "en"
        assert "Find a resident" in str(app.screen.query_one("#title").render())
        assert app.screen.query_one("#q").value == "张"
        assert "last sync" in app.status_lines()[0]
        await pilot.press("f12")
        await pilot.pause()
        assert "查找居民" in str(app.screen.query_one("#title").render())
