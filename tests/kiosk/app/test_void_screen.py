"""The void screen, typed as one burst: the list says who, how many points and what kind;
the reason is asked only after a transaction is chosen, naming it; Esc goes back to the
list; the supervisor's approval reads in the operator's words on the receipt."""

from tests.kiosk.app.conftest import SUP, SUP_PIN, burst, message_text, screen_name, signed_in, typed
from tests.kiosk.fakeserver import CARD, CARD2


def row_cells(app, i: int) -> list[str]:
    return [str(c) for c in app.screen.query_one("#recent").get_row_at(i)]


async def test_the_list_shows_name_points_and_kind(run, shop_kiosk):
    first = shop_kiosk.award(CARD, "V01", "op1").id
    shop_kiosk.redeem(CARD, [("TOWEL", 2)], "op1")
    shop_kiosk.award(CARD, "P01", "op1")
    shop_kiosk.void(first, "录错", "op1")
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f7")
        rows = [row_cells(app, i) for i in range(4)]
        assert [r[1:4] for r in rows] == [["张晓明", "-10", "撤销"], ["张晓明", "-5", "积分"],
                                          ["张晓明", "-10", "兑换"], ["张晓明", "+10", "积分"]]
        assert rows[3][5] == "已撤销"


async def test_the_reason_is_asked_after_choosing(run, posted, shop_kiosk):
    shop_kiosk.award(CARD2, "R01", "op1")
    award = shop_kiosk.award(CARD, "V01", "op1").id
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f7", *typed("录错"))  # typed before choosing: goes nowhere
        assert not app.screen.query_one("#reason").display and app.focused.id == "recent"
        await burst(pilot, "enter")  # the newest: 张晓明's award
        assert app.focused.id == "reason" and app.focused.value == ""
        assert message_text(app).startswith(f"撤销 {award}（张晓明 积分 +10）：请输入撤销原因")
        await burst(pilot, *typed("录错了\n"), *typed(f"{SUP}\n{SUP_PIN}\n"))
        assert [m.kind for m in posted] == ["void"] and shop_kiosk.store.void_of(award) == posted[0].event_id
        assert screen_name(app) == "ReceiptScreen" and "录错了（主管 sup1 授权）" in app.screen.receipt.note


async def test_escape_while_asked_goes_back_to_the_list(run, posted, shop_kiosk):
    shop_kiosk.award(CARD2, "R01", "op1")
    shop_kiosk.award(CARD, "V01", "op1")
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f7", "enter", "escape")
        assert screen_name(app) == "VoidScreen" and app.focused.id == "recent"
        assert not app.screen.query_one("#reason").display
        await burst(pilot, "down", "enter")  # the other one: 李华's
        assert "李华 积分 +2" in message_text(app)


async def test_a_voided_transaction_is_not_asked_about(run, shop_kiosk):
    award = shop_kiosk.award(CARD, "V01", "op1").id
    shop_kiosk.void(award, "录错", "op1")
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, "f7", "down", "enter")
        assert app.focused.id == "recent" and "已经撤销过了" in message_text(app)
