"""Rule caps at the counter: the kiosk refuses an award past a rule's day or month cap as
far as it can see (its own awards, voids not counted); the server reviews cross-kiosk ones."""

import pytest

from kiosk import errors as E
from schema.wire import RuleRec
from tests.conftest import DAY
from tests.kiosk.fakeserver import CARD, CARD2


@pytest.fixture
def capped(kiosk, server):
    server.put("rule", "DAY1", RuleRec(code="DAY1", name="垃圾分类", kind="basic", points=2, cap_day=1, cap_month=None, status="active"))
    server.put("rule", "MON2", RuleRec(code="MON2", name="居民会议", kind="basic", points=3, cap_day=None, cap_month=2, status="active"))
    assert kiosk.sync().ok
    return kiosk


def test_day_cap_refuses_second_award_same_day(capped, clock):
    capped.award(CARD, "DAY1", "op1")
    with pytest.raises(E.CapReached) as err:
        capped.award(CARD, "DAY1", "op1")
    assert err.value.key == "cap_reached_day" and err.value.fields["rule"] == "DAY1"
    capped.award(CARD2, "DAY1", "op1")  # another resident is not affected
    clock.advance(DAY)
    capped.award(CARD, "DAY1", "op1")  # a new local day


def test_month_cap_counts_the_month_and_ignores_voided(capped, clock):
    first = capped.award(CARD, "MON2", "op1").id
    capped.award(CARD, "MON2", "op1")
    with pytest.raises(E.CapReached) as err:
        capped.award(CARD, "MON2", "op1")
    assert err.value.key == "cap_reached_month"
    capped.void(first, "记错了", "op1")
    capped.award(CARD, "MON2", "op1")
