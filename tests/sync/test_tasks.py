"""Volunteer service tasks in the pure fold: a claim counts once per resident, while the
task is open and has a place left, for a resident of its community; its completion posts
the task's own points under the task's rule and names the claim; everything else is kept
as recorded, posts nothing and is reviewed (``task_refused``) with the reason."""

import pytest

from schema.wire import TaskClaim, TaskDone
from sync.batch import event_id
from sync.ledger import ISSUED, OperatorInfo, RuleInfo, View, resident_account
from sync.projection import Logged, fold, rederive
from sync.kinds import task_claim

T0 = 1_764_000_000_000
A, B, C = "5101810000001", "5101810000002", "5101810000003"


def claim(k, card=A, task="T1"):
    return TaskClaim(id=event_id("K0001", k), kseq=k, at=T0 + k, operator="op1", resident=card, task=task)


def done(k, claim_k, card=A, task="T1", rule="MEDIATE", points=20):
    return TaskDone(id=event_id("K0001", k), kseq=k, at=T0 + k, operator="op1", resident=card, task=task,
                    claim=event_id("K0001", claim_k), rule=rule, points=points)


def view(slots=2, closed_at=None, homes=None):
    return View(residents={A: "active", B: "active", C: "active"}, rules={"MEDIATE": RuleInfo("encouraged", 20, "active")},
                operators={"op1": OperatorInfo("S01", "operator", "active")},
                tasks={"T1": task_claim.TaskInfo("SQ01", "MEDIATE", 20, slots, closed_at)},
                homes=homes or {A: "SQ01", B: "SQ01", C: "SQ01"})


def batch(*events, pos=1, at=T0 + 1000):
    return Logged(pos, "K0001", "S01", pos, at, tuple(events))


def reasons(rows):
    return [(r[3], r[6]["reason"]) for r in rows.reviews if r[0] == "task_refused"]


def test_claim_then_done_awards_the_tasks_points_and_names_the_claim():
    rows = fold([batch(claim(1)), batch(done(2, 1), pos=2)], view())
    assert [(c["claim"], c["task"], c["resident"]) for c in rows.claims] == [("K0001-1", "T1", A)]
    assert rows.dones == [("K0001-1", "K0001-2", T0 + 2)]
    assert [(e, a, n) for e, a, n, _ in rows.postings] == [("K0001-2", resident_account(A), 20), ("K0001-2", ISSUED, -20)]
    assert rows.balances == {A: 20} and rows.tasks == {"T1"} and not rows.reviews


def test_a_second_claim_by_the_same_resident_is_reviewed_and_does_not_count():
    rows = fold([batch(claim(1), claim(2))], view())
    assert len(rows.claims) == 1 and reasons(rows) == [("K0001-2", "claimed")]


def test_a_full_task_takes_no_more_claims():
    rows = fold([batch(claim(1, A), claim(2, B)), batch(claim(3, C), pos=2)], view(slots=2))
    assert [c["resident"] for c in rows.claims] == [A, B] and reasons(rows) == [("K0001-3", "full")]


def test_a_closed_task_refuses_claims_acknowledged_after_it_closed_and_completes_earlier_ones():
    closes = T0 + 5000
    rows = fold([batch(claim(1), at=closes), batch(claim(2, B), pos=2, at=closes + 1),
                 batch(done(3, 1), pos=3, at=closes + 10)], view(closed_at=closes))
    assert [c["resident"] for c in rows.claims] == [A] and reasons(rows) == [("K0001-2", "closed")]
    assert rows.balances == {A: 20}


def test_a_resident_of_another_community_and_an_unknown_task_are_refused():
    rows = fold([batch(claim(1, B), claim(2, A, task="T9"))], view(homes={A: "SQ01", B: "SQ02"}))
    assert not rows.claims and reasons(rows) == [("K0001-1", "other_community"), ("K0001-2", "unknown")]


@pytest.mark.parametrize("events, reason", [
    ((done(1, 1),), "unclaimed"),  # done without a claim
    ((claim(1, A), done(2, 1, card=B)), "unclaimed"),  # someone else's claim
    ((claim(1), done(2, 1), done(3, 1)), "done"),  # done twice
    ((claim(1), done(2, 1, points=500)), "differs"),  # points that are not the task's
    ((claim(1), done(2, 1, rule="OTHER")), "differs"),
])
def test_a_completion_that_does_not_match_a_claim_posts_nothing_and_is_reviewed(events, reason):
    v = view()
    v.rules["OTHER"] = RuleInfo("encouraged", 20, "active")
    rows = fold([batch(*events)], v)
    refused = [r for r in rows.reviews if r[0] == "task_refused"]
    assert [r[6]["reason"] for r in refused] == [reason] and refused[0][6]["applied"] == 0
    assert sum(n for e, a, n, _ in rows.postings if e == refused[0][3]) == 0
    assert not [p for p in rows.postings if p[0] == refused[0][3]]


def test_audit_rederives_completions_as_posted_leaving_out_the_refused():
    events = [claim(1), done(2, 1), done(3, 1)]
    posts, _ = rederive(events, "K0001", "S01", {}, set(), {"K0001-3": 0})
    assert [(p.event, p.amount) for p in posts] == [("K0001-2", 20), ("K0001-2", -20)]
    # a completion whose claim was in an earlier batch
    posts, _ = rederive([done(7, 1)], "K0001", "S01", {}, set())
    assert [(p.event, p.amount) for p in posts] == [("K0001-7", 20), ("K0001-7", -20)]


def test_the_kiosk_and_the_server_decide_a_claim_by_the_same_rule():
    info = task_claim.TaskInfo("SQ01", "MEDIATE", 20, 1, None, {"K0001-1": (A, None)})
    assert task_claim.refused(info, A, "SQ01", T0) == "claimed"
    assert task_claim.refused(info, B, "SQ01", T0) == "full"
    assert task_claim.refused(info, B, "SQ02", T0) == "other_community"
    assert task_claim.refused(None, B, "SQ01", T0) == "unknown"
