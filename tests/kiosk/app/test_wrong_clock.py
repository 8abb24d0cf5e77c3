"""The counter with its clock far wrong: recording goes on at the best known time, the
status bar says so in plain Chinese, redeeming is refused up front, and the warning goes
once the clock is right again (sync.clock)."""

from tests.kiosk.app.conftest import SIZE, message_text, open_resident, sign_in, type_text
from tests.kiosk.conftest import COUNTER_T0
from tests.kiosk.fakeserver import CARD


async def test_a_1970_clock_is_said_on_the_status_bar_and_stops_redeeming(make_app, shop_kiosk, clock, server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_resident(pilot, CARD)
        clock.now = 86_400_000  # the battery went flat: 1970-01-02
        await pilot.press("f2")
        await type_text(pilot, "V01")
        await pilot.press("enter", "enter")
        await pilot.pause()
        [ev] = [r for r in shop_kiosk.store.recent_events(1)]
        assert ev["at"] >= COUNTER_T0  # recorded at the best known time, not 1970
        app.refresh_status()
        warning = app.status_lines()[1]
        assert "本机时钟不准" in warning and "1970-01-02" in warning and "暂停兑换" in warning
        await pilot.press("escape")
        await pilot.press("f3")
        await type_text(pilot, "TOWEL")
        await pilot.press("enter")
        await pilot.press("f10")
        await pilot.pause()
        await pilot.press("enter")  # yes to the confirm dialog: the refusal comes at recording
        await pilot.pause()
        assert "本机时钟不准" in message_text(app) and shop_kiosk.store.recent_events(1)[0]["kind"] == "award"

        clock.now = COUNTER_T0 + 60_000  # set right again
        assert shop_kiosk.sync().ok
        shop_kiosk.award(CARD, "V01", "op1")
        app.refresh_status()
        assert "时钟" not in app.status_lines()[1]
