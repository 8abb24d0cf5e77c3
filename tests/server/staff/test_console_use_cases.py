"""The use cases the staff console added, called as the console and the CLI call them:
a page of the review queue, a resident's history, finding residents, the dashboard and
its audit, signing out everywhere."""

import pytest

from server.errors import Forbidden, NotFound, Unauthorized
from server.services import audit, dashboard, history, manage, review, staff
from server.store import ledger
from tests.server.staff.conftest import CARD_C, PASSWORD, SQ01_CARD, SQ02_CARD


def test_the_queue_pages_newest_first_and_a_manager_sees_only_theirs(ctx, items, principal):
    with ctx.store.write() as db:  # more items than a page, all about SQ02's resident
        for _ in range(7):
            ledger.insert_review(db, "overdraft", ctx.now(), None, None, SQ02_CARD, None, {})
    rex, cmo = principal("reconciler"), principal("community_manager")
    first = review.page_of_items(ctx, rex, size=5)
    assert [i["id"] for i in first] == sorted((i["id"] for i in first), reverse=True) and len(first) == 5
    rest = review.page_of_items(ctx, rex, size=50, before=first[-1]["id"])
    assert {i["id"] for i in first} | {i["id"] for i in rest} == {i["id"] for i in review.list_items(ctx, rex, open_only=True)}
    assert [i["id"] for i in review.page_of_items(ctx, cmo, size=3)] == [items["SQ01"]]
    assert review.page_of_items(ctx, rex, kind="fork") == []


def test_a_residents_history_folds_to_the_balance_and_names_the_item(ctx, items, principal):
    out = history.resident_history(ctx, principal("reconciler"), SQ01_CARD)
    assert out["balance"] == sum(e["points"] for e in out["entries"]) < 0
    assert out["entries"][0]["balance"] == out["balance"] and out["entries"][0]["kind"] == "redeem"
    assert out["entries"][0]["receipt"] and out["entries"][0]["items"][0]["name"] == "毛巾"
    assert [r["id"] for r in out["open_reviews"]] == [items["SQ01"]]
    review.resolve(ctx, principal("reconciler"), items["SQ01"], "charge-shop", "店员未核对")
    out = history.resident_history(ctx, principal("reconciler"), SQ01_CARD)
    top = out["entries"][0]
    assert out["balance"] == 0 and top["kind"] == "charge" and top["reason"] == "店员未核对" and top["review"] == items["SQ01"]
    assert out["open_reviews"] == []
    with pytest.raises(NotFound):  # another community's resident is no resident
        history.resident_history(ctx, principal("community_manager"), SQ02_CARD)


def test_a_residents_history_pages_newest_first_and_each_page_carries_the_running_balance(ctx, items, principal):
    rex = principal("reconciler")
    review.resolve(ctx, rex, items["SQ01"], "charge-shop", "店员未核对")  # a second entry: the central credit
    whole = history.resident_history(ctx, rex, SQ01_CARD, shown=1000)
    assert whole["count"] == len(whole["entries"]) >= 2 and whole["next_before"] is None
    paged, before = [], None
    while True:
        page = history.resident_history(ctx, rex, SQ01_CARD, shown=1, before=before)
        assert page["balance"] == whole["balance"] and page["count"] == whole["count"] and page["first"] == (before is None)
        paged += page["entries"]
        if (before := page["next_before"]) is None:
            break
    assert paged == whole["entries"]
    one = history.entries_of(ctx, rex, SQ01_CARD, [e["event"] for e in whole["entries"]])["entries"]
    assert {e["event"]: e["balance"] for e in whole["entries"]} == {k: e["balance"] for k, e in one.items()}


def test_residents_are_found_by_card_phone_tail_initials_and_name_within_scope(ctx, principal):
    with ctx.store.read() as db:
        from server.store import catalog

        c = catalog.row_by_key(db, "residents", CARD_C)
        b = catalog.row_by_key(db, "residents", SQ02_CARD)
    ada, cmo = principal("admin"), principal("community_manager")
    for text in (CARD_C, c["phone"][-4:], c["initials"], c["name"], c["name"][0], "　" + c["name"] + " "):
        assert CARD_C in {r["card"] for r in manage.find_residents(ctx, ada, text)}, text
    assert SQ02_CARD in {r["card"] for r in manage.find_residents(ctx, ada, b["name"])}
    assert SQ02_CARD not in {r["card"] for r in manage.find_residents(ctx, cmo, b["name"])}
    assert manage.find_residents(ctx, cmo, "") == []


def test_a_renamed_resident_is_found_by_the_new_names_initials(ctx, principal):
    ada = principal("admin")
    row = manage.get_resident(ctx, ada, CARD_C, reason="renaming the resident")
    manage.put_resident(ctx, ada, CARD_C, "欧阳修", row["phone"], row["community"], row["status"])
    assert CARD_C in {r["card"] for r in manage.find_residents(ctx, ada, "oyx")}


def test_the_dashboard_counts_open_items_and_the_audit_keeps_its_outcome(ctx, items, principal):
    view = dashboard.overview(ctx, principal("reconciler"))
    assert dict(view["reviews"])["overdraft"] == 2 and view["audit"] is None
    assert dict(dashboard.overview(ctx, principal("community_manager"))["reviews"]) == {"overdraft": 1}
    assert view["points"]["this"]["spent"] < 0
    with pytest.raises(Forbidden):
        audit.run_audit(ctx, principal("community_manager"))
    assert audit.run_audit(ctx, principal("auditor"))["ok"]
    kept = dashboard.overview(ctx, principal("admin"))["audit"]
    assert kept["ok"] and kept["by"] == "aud" and kept["failures"] == 0
    assert [r["action"] for r in staff.audit_log(ctx, principal("admin"), action="audit_run")] == ["audit_run"]
    assert dashboard.previous_month("2026-01") == "2025-12" and dashboard.previous_month("2026-12") == "2026-11"


def test_sign_out_everywhere_revokes_every_token_of_the_account(ctx):
    a, b = (staff.sign_in(ctx, "rex", PASSWORD)["token"] for _ in range(2))
    other = staff.sign_in(ctx, "aud", PASSWORD)["token"]
    assert staff.sign_out_everywhere(ctx, a)["tokens_revoked"] == 2
    for token in (a, b):
        with pytest.raises(Unauthorized):
            staff.authenticate(ctx, token)
    assert staff.authenticate(ctx, other).username == "aud"
