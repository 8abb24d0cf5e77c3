"""What a stolen kiosk's signed batches can no longer do (issue 11, Medium 7 and 9), each
attack pushed as a real signed batch: invented, retired or borrowed operators and a void
by a non-supervisor raise review items; points a rule never had are applied at the rule's
value only, the difference queued for review and never spendable."""

import msgspec
import pytest

from server.services.audit import audit
from server.services.manage import change_rule, retire_operator
from server.services.review import list_items, resolve
from server.services.staff import SYSTEM
from server.store import catalog, ledger
from tests.server.conftest import CARD_A
from tests.server.helpers import points, reply_of


def reviews(ctx, kind: str) -> list[dict]:
    with ctx.store.read() as db:
        return [r for r in ledger.list_reviews(db) if r["kind"] == kind]


@pytest.mark.parametrize("operator, kind", [("ghost9", "operator_unknown"), ("op2", "operator_other_shop")])
def test_an_award_by_an_operator_not_of_the_shop_is_reviewed(kiosk, ctx, operator, kind):
    resp = kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10, op=operator)))
    assert resp.status_code == 200, resp.text
    [item] = reviews(ctx, kind)
    assert (item["kiosk"], item["detail"]["operator"], item["resident"]) == (kiosk.id, operator, CARD_A)


def test_an_award_by_a_retired_operator_is_reviewed(kiosk, ctx):
    retire_operator(ctx, SYSTEM, "op1")
    assert kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10, op="op1"))).status_code == 200
    assert [r["detail"]["operator"] for r in reviews(ctx, "operator_retired")] == ["op1"]


def test_a_void_by_a_non_supervisor_is_reviewed(kiosk, ctx):
    award = kiosk.award(CARD_A, "ZYFW", 10)
    assert kiosk.push(kiosk.batch(award, kiosk.void(award.id, op="op1"))).status_code == 200
    [item] = reviews(ctx, "void_unauthorised")
    assert item["detail"] == {"operator": "op1", "shop": "S01", "role": "operator"}


def test_honest_events_raise_nothing(kiosk, ctx):
    award = kiosk.award(CARD_A, "ZYFW", 10)
    assert kiosk.push(kiosk.batch(award, kiosk.void(award.id, op="sup1"))).status_code == 200
    with ctx.store.read() as db:
        assert ledger.list_reviews(db) == []


def test_a_million_points_for_a_ten_point_rule_is_never_spendable(kiosk, ctx):
    before = points(ctx, CARD_A)
    resp = kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 1_000_000)))
    assert reply_of(resp, ctx)["status"] == "applied"
    assert points(ctx, CARD_A) == before + 10
    [item] = reviews(ctx, "award_value_unknown")
    assert item["detail"] == {"rule": "ZYFW", "recorded": 1_000_000, "applied": 10, "difference": 999_990}
    # what every kiosk is told the resident holds: the rule's value, not the claim
    with ctx.store.read() as db:
        assert msgspec.json.decode(catalog.feed_data(db, "balance", CARD_A))["points"] == before + 10
    assert audit(ctx).ok  # the ledger still adds up, and the signed bytes still say 1,000,000


def test_a_value_the_rule_had_is_applied_as_recorded(kiosk, ctx):
    change_rule(ctx, SYSTEM, "ZYFW", {"points": 12})
    before = points(ctx, CARD_A)
    assert kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))).status_code == 200
    assert points(ctx, CARD_A) == before + 10
    assert [r["kind"] for r in list_items(ctx, SYSTEM)] == ["rule_value_mismatch"]


def test_the_difference_is_adjusted_only_by_a_resolution(kiosk, ctx):
    before = points(ctx, CARD_A)
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 50)))
    [item] = reviews(ctx, "award_value_unknown")
    resolve(ctx, SYSTEM, item["id"], "adjust", "volunteering was 5 hours", points=40)
    assert points(ctx, CARD_A) == before + 50
