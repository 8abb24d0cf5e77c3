"""Property: whatever a kiosk records, and however its syncs are interrupted, the figure
it showed as available before syncing is the server's confirmed figure afterwards."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import errors as E
from kiosk.service import KioskService
from kiosk.settings import Settings
from tests.conftest import SECOND, Clock
from tests.kiosk.conftest import COUNTER_T0, KIOSK_SEED
from tests.kiosk.fakeserver import CARD, CARD2, CODE, FakeServer

ops = st.lists(
    st.one_of(
        st.tuples(st.just("award"), st.sampled_from([CARD, CARD2]), st.sampled_from(["R01", "V01", "P01"])),
        st.tuples(st.just("redeem"), st.sampled_from([CARD, CARD2]), st.sampled_from(["OIL", "RICE", "TOWEL"])),
        st.tuples(st.just("void"), st.integers(1, 12), st.just("")),
        st.tuples(st.just("stock"), st.sampled_from(["OIL", "RICE"]), st.just("")),
        st.tuples(st.just("sync"), st.booleans(), st.just("")),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_available_before_sync_is_confirmed_after(steps):
    clock = Clock(COUNTER_T0)
    server = FakeServer(clock)
    with tempfile.TemporaryDirectory() as tmp:
        svc = KioskService(Settings(data_dir=Path(tmp), batch_events=2), clock=clock, transport=server.transport())
        svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
        assert svc.sync().ok
        for kind, a, b in steps:
            clock.advance(SECOND)
            try:
                if kind == "award":
                    svc.award(a, b, "op1")
                elif kind == "redeem":
                    svc.redeem(a, [(b, 1)], "op1")
                elif kind == "void":
                    svc.void(f"K0001-{a}", "撤销", "op1")
                elif kind == "stock":
                    svc.stock_in([(a, 2)], "op1")
                else:
                    server.lose_replies = int(a)  # an interrupted round
                    svc.sync()
                    server.lose_replies = 0
            except E.KioskError:
                pass  # a refusal records nothing
        before = {card: svc.balance(card).available for card in (CARD, CARD2)}
        stock_before = svc.stock_available()
        assert svc.sync().ok
        for card in (CARD, CARD2):
            bal = svc.balance(card)
            assert bal.pending == 0 and bal.confirmed == before[card] == server.balances.get(card, 0)
        assert svc.stock_available() == stock_before
        assert svc.status()["pending_events"] == 0
        svc.close()
