"""What a resolution may do, and who decides: every community an item touches is in scope,
charging a shop or writing off is a reconciler's (or admin's) decision, and a resolution
moving more points than its item is about waits for a second person's approval.

The attack (issue 11, High 1): a manager of SQ01 resolved an overdraft of an SQ01 resident
at a shop of SQ02 with ``charge-shop`` and 1,000,000 points; it was accepted, the shop's
settlement went to -999,790, and SQ02's manager could not even see the item. Over real
HTTP: tests/e2e/test_review_attack_over_http.py."""

import pytest

from server.errors import Forbidden
from server.services.audit import audit
from server.services.review import bound_of, decide, resolve
from server.services.staff import SYSTEM, acting_as, add_staff
from server.store import ledger
from server.store import staff as staffq
from tests.server.helpers import points
from tests.server.staff.conftest import PASSWORD, SQ01_CARD, overdraft


@pytest.fixture
def cross(enrolled, ctx):
    """An SQ01 resident overdrawn at S02, a shop of SQ02; a manager for each community and
    a second reconciler."""
    add_staff(ctx, SYSTEM, "cm2", "community_manager", PASSWORD, ["SQ02"])
    add_staff(ctx, SYSTEM, "rita", "reconciler", PASSWORD)
    item = overdraft(enrolled(2, "S02"), ctx, SQ01_CARD)
    with ctx.store.read() as db:
        bound = bound_of(db, staffq.review_by_id(db, item))
    return {"item": item, "bound": bound}


def account(ctx, name: str) -> int:
    with ctx.store.read() as db:
        return ledger.account_total(db, name)


def test_an_item_touches_the_residents_and_the_shops_community(client, login, ctx, cross):
    item = client.get(f"/api/reviews/{cross['item']}", headers=login("reconciler")).json()
    assert item["communities"] == ["SQ01", "SQ02"] and item["community"] == "SQ01"
    assert cross["bound"] == -item["detail"]["balance_after"] > 0  # an overdraft's bound is its depth
    cm2 = acting_as(ctx, "cm2")
    from server.services.review import list_items, show_item

    assert cross["item"] in {i["id"] for i in list_items(ctx, cm2)}  # SQ02's manager sees it now
    assert show_item(ctx, cm2, cross["item"])["id"] == cross["item"]


@pytest.mark.parametrize("action,points", [("accept", None), ("adjust", 5), ("charge-shop", 1_000_000)])
def test_a_manager_of_one_community_cannot_resolve_an_item_touching_another(client, login, ctx, cross, action, points):
    settlement = account(ctx, "shop:S02")
    body = {"action": action, "note": "本社区居民", **({"points": points} if points else {})}
    resp = client.post(f"/api/reviews/{cross['item']}/resolve", headers=login("community_manager"), json=body)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden"
    assert account(ctx, "shop:S02") == settlement
    assert client.get(f"/api/reviews/{cross['item']}", headers=login("auditor")).json()["status"] == "open"


@pytest.mark.parametrize("action", ["charge-shop", "write-off"])
def test_charging_a_shop_or_writing_off_is_not_a_community_managers_decision(client, login, ctx, items, action):
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("community_manager"),
                       json={"action": action, "note": "自己社区的"})
    assert resp.status_code == 403 and "review.charge" in resp.json()["error"]["message"]
    assert client.get(f"/api/reviews/{items['SQ01']}", headers=login("auditor")).json()["status"] == "open"


def test_a_manager_adjusts_its_own_item_within_the_items_amount(client, login, ctx, items):
    was = points(ctx, SQ01_CARD)
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("community_manager"),
                       json={"action": "adjust", "points": 5, "note": "补录"})
    assert resp.status_code == 200 and resp.json()["status"] == "resolved"
    assert points(ctx, SQ01_CARD) == was + 5


def test_beyond_the_items_amount_a_resolution_waits_for_a_second_person(client, login, ctx, cross):
    rex, rita = acting_as(ctx, "rex"), acting_as(ctx, "rita")
    balance, settlement = points(ctx, SQ01_CARD), account(ctx, "shop:S02")
    out = resolve(ctx, rex, cross["item"], "charge-shop", "超市未核验", 1_000_000)
    assert (out["status"], out["bound"], out["event"]) == ("pending", cross["bound"], None)
    assert (points(ctx, SQ01_CARD), account(ctx, "shop:S02")) == (balance, settlement)  # nothing posted
    with pytest.raises(Forbidden, match="second person"):
        decide(ctx, rex, cross["item"], True, "我自己批准")
    with pytest.raises(Forbidden):  # a manager of one of its communities cannot approve either
        decide(ctx, acting_as(ctx, "cm2"), cross["item"], True, "同意")
    done = decide(ctx, rita, cross["item"], True, "核实无误")
    assert (done["status"], done["staff"], done["approved_by"]) == ("resolved", "rex", "rita")
    assert points(ctx, SQ01_CARD) == balance + 1_000_000 and account(ctx, "shop:S02") == settlement - 1_000_000
    with ctx.store.read() as db:
        resolution = staffq.resolution_of(db, cross["item"])
        log = [(r["staff"], r["action"]) for r in staffq.audit_rows(db, None, None, 0, 1000) if r["subject"] == str(cross["item"])]
    assert (resolution["staff"], resolution["approved_by"], resolution["points"]) == ("rex", "rita", 1_000_000)
    assert log == [("rex", "review_propose"), ("rita", "review_approve")]
    assert audit(ctx).ok


def test_a_declined_proposal_posts_nothing_and_the_item_stays_open(ctx, cross):
    rex, rita = acting_as(ctx, "rex"), acting_as(ctx, "rita")
    balance = points(ctx, SQ01_CARD)
    assert resolve(ctx, rex, cross["item"], "adjust", "多给点", cross["bound"] + 1)["status"] == "pending"
    with pytest.raises(Exception, match="awaiting approval"):  # one proposal at a time
        resolve(ctx, rita, cross["item"], "accept", "看过")
    assert decide(ctx, rita, cross["item"], False, "超出欠分")["status"] == "open"
    assert points(ctx, SQ01_CARD) == balance
    out = resolve(ctx, rita, cross["item"], "charge-shop", "超市未核验")  # what clears the overdraft: within bound
    assert out["status"] == "resolved" and out["points"] == cross["bound"]
    assert points(ctx, SQ01_CARD) == 0


def test_cli_proposes_and_a_second_staff_member_approves(settings, ctx, cross, capsys):
    from server.cli import main

    data = str(settings.data_dir)
    base = ["review", "resolve", str(cross["item"]), "--data", data]
    assert main([*base, "--action", "adjust", "--points", "500000", "--note", "补偿", "--staff", "rex"]) == 0
    assert "awaiting a second staff member" in capsys.readouterr().out
    assert main([*base, "--approve", "--note", "同意", "--staff", "rex"]) == 2
    assert main([*base, "--approve", "--note", "同意", "--staff", "rita", "--json"]) == 0
    assert '"approved_by": "rita"' in capsys.readouterr().out
