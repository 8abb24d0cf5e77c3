"""Operator sign-in: the right PIN opens the counter, wrong PINs lock the id out for a
while, and the lockout survives restarting the app."""

from kiosk.app import KioskApp
from kiosk.counter import LOCKOUT_SECONDS, MAX_FAILURES
from tests.conftest import SECOND
from tests.kiosk.app.conftest import OP, OP_PIN, SIZE, message_text, screen_name, sign_in


async def test_right_pin_opens_find_screen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert screen_name(app) == "FindScreen"
        assert app.operator.id == OP and app.operator.name == "刘阿姨"


async def test_wrong_pin_says_so_and_counts_down(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, pin="0000")
        assert screen_name(app) == "SignInScreen" and app.operator is None
        assert f"还可再试 {MAX_FAILURES - 1} 次" in message_text(app)


async def test_unknown_operator_is_refused_like_a_wrong_pin(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, op="ghost", pin="1234")
        assert app.operator is None and "工号或密码不对" in message_text(app)


async def test_repeated_wrong_pins_lock_out_even_the_right_pin(make_app, shop_kiosk, clock):
    app = make_app(lang="en")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(MAX_FAILURES):
            await pilot.press("escape")  # clear both fields, back to the id
            await sign_in(pilot, pin="0000")
        assert "locked out" in message_text(app)
        await pilot.press("escape")
        await sign_in(pilot)
        assert app.operator is None and "locked out" in message_text(app)

    restarted = KioskApp(shop_kiosk, auto_sync=False)  # a restart does not reset the count
    async with restarted.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert restarted.operator is None
        clock.advance((LOCKOUT_SECONDS + 1) * SECOND)
        await pilot.press("escape")
        await sign_in(pilot, pin=OP_PIN)
        assert restarted.operator is not None and screen_name(restarted) == "FindScreen"


async def test_sign_out_returns_to_sign_in(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f9")
        await pilot.pause()
        assert screen_name(app) == "SignInScreen" and app.operator is None
