"""The resident view's balance says how far this kiosk's events about the resident have got
(issue 14, "what a kiosk sees"), against the real server app in process whose ledger
follows the log only when the test projects (``JIFEN_PROJECTION=separate``, as beside a
``jifen-server project`` process): 待同步 while one is still in the outbox, 已上传，待入账
once the server acknowledged them all but has not projected one, 已确认 once the server's
``projected`` row covers them all and the balance pulled holds them."""

import pytest

from kiosk.app import KioskApp
from server.services import projector
from server.settings import Settings
from tests.conftest import InProcessServer
from tests.kiosk.app.conftest import SIZE, burst, signed_in, typed
from tests.server.conftest import CARD_A


@pytest.fixture
def app_server(server_dir, clock):
    """The real app, acknowledging without projecting: the test projects."""
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock, projection="separate")).start()
    yield server
    server.stop()


async def settle(app, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def balance_label(app) -> str:
    return str(app.screen.query_one("#balance").render())


@pytest.mark.parametrize("lang, words", [
    ("zh", ("状态：待同步（1 条）", "状态：已上传，待入账（1 条）", "状态：已确认")),
    ("en", ("waiting to sync (1 events)", "uploaded, not yet in the ledger (1 events)", "· confirmed")),
])
async def test_the_balance_label_in_each_state(inprocess_kiosk, app_server, lang, words):
    pending, acked, confirmed = words
    svc = inprocess_kiosk("k1", lang=lang)
    before = svc.balance(CARD_A).confirmed
    app = KioskApp(svc, lang=lang, auto_sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD_A + "\n"))
        await settle(app, pilot)
        assert app.screen.query_one("#balance") is not None
        label = balance_label(app)
        assert confirmed in label and pending not in label and acked not in label

        await burst(pilot, "f2", *typed("ZYFW\n"))
        await burst(pilot, "enter")  # the receipt
        await burst(pilot, "escape")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "ResidentScreen"
        assert pending in balance_label(app)

        await burst(pilot, "f5")  # pushed and acknowledged; the server has not projected it
        await settle(app, pilot)
        label = balance_label(app)
        assert acked in label and pending not in label
        assert svc.balance(CARD_A).confirmed == before

        assert projector.project_pending(app_server.ctx) > 0
        await burst(pilot, "f5")  # the pull brings the projected row and the new balance
        await settle(app, pilot)
        label = balance_label(app)
        assert confirmed in label and acked not in label
        assert svc.balance(CARD_A).confirmed == before + 10
