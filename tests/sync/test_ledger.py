"""Ledger rules: postings balance, voids reverse, conflicts are reviewed not dropped."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.types import CENTRAL_KIOSK
from schema.wire import Adjust, Award, Item, Redeem, StockIn, StockLine, Void
from sync.batch import event_id
from sync.ledger import (
    ISSUED,
    GoodInfo,
    OperatorInfo,
    RuleInfo,
    View,
    fold,
    plan_batch,
    resident_account,
    shop_account,
)
from sync.protocol import RequestRejected

T0 = 1_764_000_000_000
A, B = "5101810000001", "5101810000002"


def view(balance=0, stock=5):
    return View(
        residents={A: "active", B: "active", "5101810000009": "retired"},
        rules={
            "R01": RuleInfo("basic", 2, "active", cap_day=1),
            "R02": RuleInfo("encouraged", 10, "active", values=frozenset({7, 10})),
            "X01": RuleInfo("prohibited", -20, "active"),
            "OLD": RuleInfo("encouraged", 5, "retired"),
        },
        goods={"G01": GoodInfo(100, "active"), "G02": GoodInfo(30, "active")},
        balances={resident_account(A): balance},
        stock={("S01", "G01"): stock},
        operators={"op1": OperatorInfo("S01", "operator", "active"), "sup1": OperatorInfo("S01", "supervisor", "active"),
                   "old1": OperatorInfo("S01", "operator", "retired"), "op2": OperatorInfo("S02", "operator", "active")},
    )


def aw(k, rule="R01", pts=2, card=A):
    return Award(id=event_id("K0001", k), kseq=k, at=T0, operator="op1", resident=card, rule=rule, points=pts)


def rd(k, qty=1, price=100, card=A, sku="G01"):
    return Redeem(id=event_id("K0001", k), kseq=k, at=T0, operator="op1", resident=card, items=[Item(sku=sku, qty=qty, price=price)], total=qty * price)


def test_every_event_posts_to_zero():
    plan = plan_batch([aw(1), rd(2), aw(3, "X01", -20)], "K0001", "S01", view(500))
    by_event: dict[str, int] = {}
    for p in plan.postings:
        by_event[p.event] = by_event.get(p.event, 0) + p.amount
    assert set(by_event.values()) == {0}


def test_balances_follow_postings():
    plan = plan_batch([aw(1, "R02", 10), rd(2, price=100)], "K0001", "S01", view(200))
    assert plan.balances[resident_account(A)] == 110
    assert plan.balances[shop_account("S01")] == 100
    assert plan.balances[ISSUED] == -10
    assert plan.stock[("S01", "G01")] == 4


def test_overdraft_is_applied_and_reviewed():
    plan = plan_batch([rd(1, price=100)], "K0001", "S01", view(50))
    assert plan.balances[resident_account(A)] == -50
    assert [r.kind for r in plan.reviews] == ["overdraft"]


def test_negative_stock_is_applied_and_reviewed():
    plan = plan_batch([rd(1, qty=3)], "K0001", "S01", view(1000, stock=2))
    assert plan.stock[("S01", "G01")] == -1
    assert [r.kind for r in plan.reviews] == ["stock_negative"]


def test_void_reverses_postings_and_stock():
    v = Void(id="K0001-2", kseq=2, at=T0, operator="sup1", target="K0001-1", reason="错")
    plan = plan_batch([rd(1), v], "K0001", "S01", view(300))
    assert plan.balances[resident_account(A)] == 300
    assert plan.stock[("S01", "G01")] == 5
    assert plan.voided == ["K0001-1"]


@pytest.mark.parametrize(
    "events, kind",
    [
        ([Void(id="K0001-1", kseq=1, at=T0, operator="sup1", target="K0009-5", reason="x")], "void_unknown_target"),
        ([aw(1), Void(id="K0001-2", kseq=2, at=T0, operator="sup1", target="K0001-1", reason="x"), Void(id="K0001-3", kseq=3, at=T0, operator="sup1", target="K0001-1", reason="x")], "void_repeated"),
        ([aw(1, "OLD", 5)], "retired_reference"),
        ([aw(1, card="5101810000009")], "retired_reference"),
        ([aw(1, "R02", 7)], "rule_value_mismatch"),  # a value the rule had
        ([aw(1, "R02", 1_000_000)], "award_value_unknown"),
        ([aw(1), aw(2)], "cap_exceeded"),
        ([rd(1, price=90)], "price_mismatch"),
    ],
)
def test_business_conflicts_are_reviewed(events, kind):
    plan = plan_batch(events, "K0001", "S01", view(1000))
    assert kind in [r.kind for r in plan.reviews]


def test_points_the_rule_never_had_are_applied_at_its_value():
    plan = plan_batch([aw(1, "R02", 1_000_000)], "K0001", "S01", view(0))
    assert plan.balances[resident_account(A)] == 10
    [item] = [r for r in plan.reviews if r.kind == "award_value_unknown"]
    assert item.detail == {"rule": "R02", "recorded": 1_000_000, "applied": 10, "difference": 999_990}


def test_a_void_in_the_same_batch_reverses_what_was_applied():
    void = Void(id="K0001-2", kseq=2, at=T0, operator="sup1", target="K0001-1", reason="x")
    plan = plan_batch([aw(1, "R02", 1_000_000), void], "K0001", "S01", view(0))
    assert plan.balances[resident_account(A)] == 0


@pytest.mark.parametrize("operator, kind", [("nobody", "operator_unknown"), ("old1", "operator_retired"),
                                            ("op2", "operator_other_shop")])
def test_operators_not_of_this_shop_are_reviewed(operator, kind):
    ev = Award(id=event_id("K0001", 1), kseq=1, at=T0, operator=operator, resident=A, rule="R02", points=10)
    plan = plan_batch([ev], "K0001", "S01", view(0))
    assert [r.kind for r in plan.reviews] == [kind]
    assert plan.reviews[0].detail["operator"] == operator


def test_a_void_by_an_operator_who_is_not_a_supervisor_is_reviewed():
    void = Void(id="K0001-2", kseq=2, at=T0, operator="op1", target="K0001-1", reason="x")
    plan = plan_batch([aw(1, "R02", 10), void], "K0001", "S01", view(0))
    assert [r.kind for r in plan.reviews] == ["void_unauthorised"]
    assert not plan_batch([aw(1, "R02", 10), Void(id="K0001-2", kseq=2, at=T0, operator="sup1", target="K0001-1",
                                                 reason="x")], "K0001", "S01", view(0)).reviews


@pytest.mark.parametrize(
    "event, field",
    [
        (aw(1, card="5101810000077"), "resident"),
        (aw(1, rule="NOPE"), "rule"),
        (rd(1, sku="G99"), "sku"),
        (aw(1, "X01", 20), "rule"),  # a prohibited rule cannot add points
        (aw(1, "R02", -10), "rule"),
    ],
)
def test_references_that_never_existed_reject_the_batch(event, field):
    with pytest.raises(RequestRejected) as err:
        plan_batch([event], "K0001", "S01", view(1000))
    assert err.value.code == "invalid_batch"
    assert field in err.value.detail


def test_known_event_id_rejects():
    v = view()
    v.known_ids.add("K0001-1")
    with pytest.raises(RequestRejected):
        plan_batch([aw(1)], "K0001", "S01", v)


def test_adjust_and_stock_in():
    adj = Adjust(id="C-1", kseq=1, at=T0, staff="admin", resident=A, points=40, reason="opening")
    s_in = StockIn(id="K0001-1", kseq=1, at=T0, operator="op1", items=[StockLine(sku="G02", qty=12)])
    plan = plan_batch([adj], CENTRAL_KIOSK, "", view(0))
    assert plan.balances[resident_account(A)] == 40
    plan = plan_batch([s_in], "K0001", "S01", view(0))
    assert plan.stock[("S01", "G02")] == 12


event_specs = st.lists(
    st.tuples(st.sampled_from(["R01", "R02", "X01"]), st.sampled_from([A, B]), st.booleans()),
    min_size=1,
    max_size=25,
)


@given(event_specs, st.randoms(use_true_random=False))
def test_fold_is_order_insensitive(specs, rnd):
    values = {"R01": 2, "R02": 10, "X01": -20}
    events = []
    for k, (rule, card, redeem) in enumerate(specs, start=1):
        events.append(rd(k, price=30, sku="G02", card=card) if redeem else aw(k, rule, values[rule], card))
    first = plan_batch(events, "K0001", "S01", view(0, stock=1000))
    shuffled = events[:]
    rnd.shuffle(shuffled)
    second = plan_batch(shuffled, "K0001", "S01", view(0, stock=1000))
    assert fold(first.postings) == fold(second.postings)
    assert {k: v for k, v in fold(first.postings).items() if v} == {k: v for k, v in first.balances.items() if v}
