"""Volunteer service tasks on the server: staff who may act in a community post a task
worth a rule's points (audited, sent to that community's kiosks), a claim pushed from a
kiosk takes a place, its completion awards the task's points under its rule and names the
claim; what does not count is kept and reviewed; a closed task takes no more claims; a
manager of another community can neither post nor close there; a rebuild agrees."""

import json

import pytest

from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.services import projector, tasks
from server.services.staff import SYSTEM, principal_of
from server.store import ledger
from server.store import staff as staff_store
from tests.server.staff.conftest import CARD_C, SQ01_CARD, SQ02_CARD


def push(k, *events):
    resp = k.push(k.batch(*events))
    assert resp.status_code == 200, resp.text


def feed_task(ctx, task_id):
    with ctx.store.read() as db:
        row = db.sql.execute("SELECT scope, data FROM feed WHERE kind = 'task' AND key = ?", [task_id]).fetchone()
    return row[0], json.loads(row[1])


def reviews(ctx, kind="task_refused"):
    with ctx.store.read() as db:
        return [(e, json.loads(d)["reason"]) for e, d in db.sql.execute(
            "SELECT event, detail FROM review_items WHERE kind = ? ORDER BY id", [kind])]


def who(ctx, name):
    with ctx.store.read() as db:
        return principal_of(staff_store.staff_by_name(db, name))


def balance(ctx, card):
    with ctx.store.read() as db:
        return ledger.balances_of(db, {f"resident:{card}"}).get(f"resident:{card}", 0)


def test_post_claim_done_awards_the_tasks_points_and_traces_to_the_claim(ctx, enrolled):
    t = tasks.post(ctx, SYSTEM, "SQ01", "TJJF", "调解邻里噪音纠纷", slots=2)
    assert (t["id"], t["points"], t["status"]) == ("T1", 8, "open")
    scope, rec = feed_task(ctx, "T1")
    assert scope == "community:SQ01" and rec["claims"] == [] and rec["rule"] == "TJJF"
    k = enrolled(1, "S01")
    before = balance(ctx, SQ01_CARD)
    c = k.claim(SQ01_CARD, "T1")
    push(k, c)
    assert feed_task(ctx, "T1")[1]["claims"] == [{"card": SQ01_CARD, "event": c.id, "done": False}]
    d = k.done(SQ01_CARD, "T1", c.id, "TJJF", 8)
    push(k, d)
    assert balance(ctx, SQ01_CARD) == before + 8
    shown = tasks.task(ctx, SYSTEM, "T1")
    assert [(x["claim"], x["done_event"]) for x in shown["claims"]] == [(c.id, d.id)] and shown["claims"][0]["resident_name"]
    with ctx.store.read() as db:
        posted = db.sql.execute("SELECT account, amount FROM postings WHERE event = ? ORDER BY amount", [d.id]).fetchall()
    assert posted == [("programme:issued", -8), (f"resident:{SQ01_CARD}", 8)]
    assert [(r["id"], r["claimed"], r["completed"]) for r in tasks.list_tasks(ctx, SYSTEM, "SQ01")] == [("T1", 1, 1)]


def test_what_does_not_count_is_kept_and_reviewed_with_its_reason(ctx, enrolled):
    tasks.post(ctx, SYSTEM, "SQ01", "ZYFW", "收集居民意见", slots=1)
    k = enrolled(1, "S01")
    first, again, other = k.claim(SQ01_CARD, "T1"), k.claim(SQ01_CARD, "T1"), k.claim(CARD_C, "T1")
    stranger = k.claim(SQ02_CARD, "T1")
    unclaimed = k.done(CARD_C, "T1", other.id, "ZYFW", 10)
    inflated = k.done(SQ01_CARD, "T1", first.id, "ZYFW", 1000)
    push(k, first, again, other, stranger, unclaimed, inflated)
    assert reviews(ctx) == [(again.id, "claimed"), (other.id, "full"), (stranger.id, "other_community"),
                            (unclaimed.id, "unclaimed"), (inflated.id, "differs")]
    with ctx.store.read() as db:
        assert db.sql.execute("SELECT count(*) FROM postings WHERE event IN (?, ?)", [unclaimed.id, inflated.id]).fetchone()[0] == 0
        assert db.sql.execute("SELECT count(*) FROM events WHERE id = ?", [inflated.id]).fetchone()[0] == 1


def test_a_closed_task_takes_no_claims_but_completes_those_made(ctx, enrolled, clock, tmp_path):
    tasks.post(ctx, SYSTEM, "SQ01", "LLHZ", "帮独居老人修水管", slots=3)
    k = enrolled(1, "S01")
    c = k.claim(SQ01_CARD, "T1")
    push(k, c)
    assert tasks.close(ctx, SYSTEM, "T1")["status"] == "closed"
    assert feed_task(ctx, "T1")[1]["status"] == "closed"
    with pytest.raises(Conflict):
        tasks.close(ctx, SYSTEM, "T1")
    clock.advance(1000)
    late = k.claim(CARD_C, "T1")
    push(k, late, k.done(SQ01_CARD, "T1", c.id, "LLHZ", 5))
    assert reviews(ctx) == [(late.id, "closed")]
    assert tasks.task(ctx, SYSTEM, "T1")["claims"][0]["done_event"] is not None
    rebuilt = projector.rebuild(ctx, tmp_path / "scratch.db")
    assert rebuilt.ok, json.dumps(rebuilt.as_dict(), ensure_ascii=False, indent=0)


def test_staff_may_post_and_close_only_where_they_act(ctx):
    cmo = who(ctx, "cmo")  # a manager of SQ01
    with pytest.raises(Forbidden):
        tasks.post(ctx, cmo, "SQ02", "TJJF", "调解")
    t = tasks.post(ctx, cmo, "SQ01", "TJJF", "调解")
    other = tasks.post(ctx, SYSTEM, "SQ02", "TJJF", "调解")
    with pytest.raises(Forbidden):
        tasks.close(ctx, cmo, other["id"])
    assert [r["id"] for r in tasks.list_tasks(ctx, cmo)] == [t["id"]]
    with pytest.raises(Forbidden):
        tasks.post(ctx, who(ctx, "aud"), "SQ01", "TJJF", "调解")


@pytest.mark.parametrize("fields, error", [
    (dict(rule="WZDJ"), Invalid),  # a rule that deducts
    (dict(rule="NOPE"), NotFound),
    (dict(community="SQ99"), NotFound),
    (dict(title=""), Invalid),
    (dict(slots=0), Invalid),
])
def test_a_task_that_cannot_be_posted_is_refused_by_name(ctx, fields, error):
    args = dict(community="SQ01", rule="TJJF", title="调解", slots=1) | fields
    with pytest.raises(error):
        tasks.post(ctx, SYSTEM, args["community"], args["rule"], args["title"], args["slots"])
    assert tasks.list_tasks(ctx, SYSTEM) == []
