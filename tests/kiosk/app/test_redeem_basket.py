"""The redeem screen's basket, typed as one burst as a scanner does: quantities typed with
the code or after it, the basket's keys on screen, what is over (stock, points, the offline
limit) said before any confirm question, and Esc with goods in the basket asks first.
Stock and balance of the fake server: OIL 10 at 50, RICE 1 at 30, TOWEL 1000 at 5; 张晓明
has 100 points."""

from schema.wire import Policy
from tests.kiosk.app.conftest import burst, message_text, screen_name, signed_in, typed
from tests.kiosk.fakeserver import CARD


async def at_redeem(pilot) -> None:
    await signed_in(pilot)
    await burst(pilot, *typed(CARD + "\n"), "f3")
    assert screen_name(pilot.app) == "RedeemScreen"


def total_line(app) -> str:
    return str(app.screen.query_one("#total").render())


async def test_a_quantity_typed_with_the_code(run):
    app, ctx = run()
    async with ctx as pilot:
        await at_redeem(pilot)
        await burst(pilot, *typed("TOWEL*3\noil:1\nＴＯＷＥＬ×2\n"))
        assert app.screen.basket == {"TOWEL": 5, "OIL": 1}
        assert "合计 75 分" in total_line(app)


async def test_a_number_alone_sets_the_quantity_of_the_line_last_scanned(run):
    app, ctx = run()
    async with ctx as pilot:
        await at_redeem(pilot)
        await burst(pilot, *typed("OIL\nTOWEL\n4\n"))
        assert app.screen.basket == {"OIL": 1, "TOWEL": 4}
        await burst(pilot, *typed("0\n"))  # zero: the line goes
        assert app.screen.basket == {"OIL": 1}


async def test_more_than_the_stock_is_refused_as_it_is_asked_for(run):
    app, ctx = run()
    async with ctx as pilot:
        await at_redeem(pilot)
        await burst(pilot, *typed("RICE\nRICE\n"))  # one bag in stock
        assert app.screen.basket == {"RICE": 1}
        assert message_text(app) == "商品 大米 库存不足：现有 1，需要 2"
        await burst(pilot, *typed("OIL*11\n"))
        assert app.screen.basket == {"RICE": 1} and "现有 10，需要 11" in message_text(app)


async def test_over_the_balance_is_said_instead_of_the_confirm_question(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await at_redeem(pilot)
        await burst(pilot, *typed("OIL*3\n"), "f10")
        assert screen_name(app) == "RedeemScreen"  # no question asked
        assert message_text(app) == "积分不足：可用 100 分，需要 150 分"
        await burst(pilot, *typed("2\n"), "f10")  # down to two: now it asks
        assert screen_name(app) == "ConfirmScreen"
        await burst(pilot, "enter")
        assert [m.kind for m in posted] == ["redeem"] and shop_kiosk.balance(CARD).available == 0


async def test_over_the_offline_limit_is_said_instead_of_the_confirm_question(run, server, shop_kiosk):
    server.policy = Policy(lease_seconds=86_400, balance_max_age_seconds=3_600, offline_daily_cap=40)
    assert shop_kiosk.sync().ok
    server.down = True
    assert not shop_kiosk.sync().ok  # unreachable: offline mode, 40 points a day
    app, ctx = run()
    async with ctx as pilot:
        await at_redeem(pilot)
        assert "每天最多兑换 40 分" in str(app.screen.query_one("#offline").render())
        await burst(pilot, *typed("TOWEL*9\n"), "f10")
        assert screen_name(app) == "RedeemScreen"
        assert message_text(app) == "离线时每人每天最多兑换 40 分（今天已兑换 0 分，本次 45 分）"
        await burst(pilot, *typed("8\n"), "f10")
        assert screen_name(app) == "ConfirmScreen"


async def test_the_basket_keys_are_on_screen(run):
    app, ctx = run()
    async with ctx as pilot:
        await at_redeem(pilot)
        hint = str(app.screen.query_one("#basket-keys").render())
        assert all(word in hint for word in ("+ 加一", "- 减一", "Delete 删除", "改数量"))
        await burst(pilot, "f12")
        assert "+ one more" in str(app.screen.query_one("#basket-keys").render())


async def test_escape_with_goods_in_the_basket_asks_first(run, posted):
    app, ctx = run()
    async with ctx as pilot:
        await at_redeem(pilot)
        await burst(pilot, "escape")  # empty basket: straight back
        assert screen_name(app) == "ResidentScreen"
        await burst(pilot, "f3", *typed("TOWEL*2\n"), "escape")
        assert screen_name(app) == "ConfirmScreen"
        assert "购物篮里还有 2 件商品" in str(app.screen.query_one("#question").render())
        await burst(pilot, "escape")  # no: the basket is kept
        assert screen_name(app) == "RedeemScreen" and app.screen.basket == {"TOWEL": 2}
        await burst(pilot, "escape")
        await burst(pilot, "enter")  # yes (typed once the question is up: kiosk.typeahead)
        assert screen_name(app) == "ResidentScreen" and posted == []
