"""Central batches beside a projector that owns the fold (``JIFEN_PROJECTION`` separate or
background, issue 14): a staff correction is only logged, like a kiosk's batch, and the
projector folds it in log order (the serve process never projects there); ``charge-shop`` and
``write-off``, which read the resident's balance, wait up to ``projection_wait_seconds`` for
the projection to reach the log and are refused ``409 ledger_behind`` (nothing done) when it
has not. ``inline`` is as before (tests/server/staff/test_review.py)."""

import shutil
import threading
import time

import pytest

from server.services import projector
from server.services.audit import audit
from server.settings import Settings
from server.store import ledger
from server.store import log as logstore
from tests.server.helpers import points
from tests.server.staff.conftest import SQ01_CARD
from tests.server.staff.test_review import account, central_events

WAIT = 2.0


@pytest.fixture
def mode() -> str:
    return "separate"


@pytest.fixture
def settings(tmp_path, staff_template, clock, mode) -> Settings:
    data = tmp_path / "server"
    shutil.copytree(staff_template, data)
    return Settings(data_dir=data, clock=clock, projection=mode, projection_wait_seconds=WAIT)


def positions(ctx) -> tuple[int, int]:
    with ctx.store.read() as db:
        return logstore.head(db), logstore.projected(db)


def redeem_beyond(kiosk, card: str, qty: int):
    resp = kiosk.push(kiosk.batch(kiosk.redeem(card, ("TOWEL", qty, 50))))
    assert resp.status_code == 200, resp.text


def overdraft_item(ctx, card: str) -> int:
    with ctx.store.read() as db:
        return max(i["id"] for i in ledger.list_reviews(db) if i["kind"] == "overdraft" and i["resident"] == card)


@pytest.fixture
def item(enrolled, ctx):
    """An open overdraft item of SQ01_CARD at S01, projected; ``item.kiosk`` pushes more."""
    k = enrolled(1, "S01")
    redeem_beyond(k, SQ01_CARD, points(ctx, SQ01_CARD) // 50 + 1)
    assert positions(ctx)[0] > positions(ctx)[1]  # acknowledged, not projected: the test projects
    projector.project_pending(ctx)
    return overdraft_item(ctx, SQ01_CARD), k


def test_a_correction_is_logged_and_the_projector_folds_it(client, login, ctx, item):
    first_item, k = item
    redeem_beyond(k, SQ01_CARD, 1)  # a second overdraft item
    projector.project_pending(ctx)
    second_item = overdraft_item(ctx, SQ01_CARD)
    assert second_item != first_item
    was = points(ctx, SQ01_CARD)
    ids = []
    for item_id, n in ((first_item, 25), (second_item, 5)):  # the second before the first is projected
        resp = client.post(f"/api/reviews/{item_id}/resolve", headers=login("admin"),
                           json={"action": "adjust", "points": n, "note": "补录志愿服务"})
        assert resp.status_code == 200, resp.text
        ids.append(resp.json()["event"])
        head, cursor = positions(ctx)
        assert head == cursor + len(ids) and points(ctx, SQ01_CARD) == was  # logged, not projected by the action
    first, second = (int(i.split("-")[1]) for i in ids)
    assert second == first + 1  # the next central event follows the logged one, projected or not
    assert projector.project_pending(ctx) == 2
    assert points(ctx, SQ01_CARD) == was + 30
    assert [e.id for e in central_events(ctx)][-2:] == ids
    assert audit(ctx).ok


def test_charge_shop_refuses_while_the_ledger_stays_behind(client, login, ctx, item):
    item_id, k = item
    redeem_beyond(k, SQ01_CARD, 1)  # logged; no projector runs
    head, cursor = positions(ctx)
    before = (len(central_events(ctx)), account(ctx, "shop:S01"), points(ctx, SQ01_CARD))
    resp = client.post(f"/api/reviews/{item_id}/resolve", headers=login("reconciler"),
                       json={"action": "charge-shop", "note": "超市未核验余额"})
    assert resp.status_code == 409, resp.text
    body = resp.json()["error"]
    assert (body["code"], body["action"]) == ("ledger_behind", "retry") and body["detail"]["behind"] == head - cursor == 1
    assert (body["detail"]["action"], body["detail"]["waited_seconds"]) == ("charge-shop", WAIT) and "behind the log" in body["message"]
    assert (len(central_events(ctx)), account(ctx, "shop:S01"), points(ctx, SQ01_CARD)) == before
    assert client.get(f"/api/reviews/{item_id}", headers=login("auditor")).json()["status"] == "open"
    resp = client.post(f"/api/reviews/{item_id}/resolve", headers=login("reconciler"),
                       json={"action": "write-off", "points": 10, "note": "核销"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "ledger_behind"


def test_charge_shop_waits_for_the_projector_and_clears_the_balance_it_reached(client, login, ctx, item):
    """A redemption logged before the action, projected while it waits: the charge clears
    the overdraft including it."""
    item_id, k = item
    redeem_beyond(k, SQ01_CARD, 1)  # 50 more owed, not projected yet
    behind = points(ctx, SQ01_CARD)
    late = threading.Timer(0.2, projector.project_pending, args=(ctx,))
    late.start()
    try:
        resp = client.post(f"/api/reviews/{item_id}/resolve", headers=login("reconciler"),
                           json={"action": "charge-shop", "note": "超市未核验余额"})
    finally:
        late.join()
    assert resp.status_code == 200, resp.text
    # the overdraft as the projector left it, beyond the item's own: a proposal for a second person
    assert (resp.json()["points"], resp.json()["status"]) == (50 - behind, "pending")
    resp = client.post(f"/api/reviews/{item_id}/approve", headers=login("admin"), json={"note": "同意"})
    assert resp.status_code == 200 and resp.json()["status"] == "resolved", resp.text
    assert projector.project_pending(ctx) > 0
    assert points(ctx, SQ01_CARD) == 0
    assert audit(ctx).ok


@pytest.mark.parametrize("mode", ["background"])
def test_background_the_thread_folds_the_correction_and_a_charge_waits_for_it(client, login, enrolled, ctx):
    assert ctx.projector is not None
    k = enrolled(1, "S01")
    redeem_beyond(k, SQ01_CARD, points(ctx, SQ01_CARD) // 50 + 1)
    deadline = time.monotonic() + 30
    while positions(ctx)[1] < positions(ctx)[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    item_id = overdraft_item(ctx, SQ01_CARD)
    owed = -points(ctx, SQ01_CARD)
    redeem_beyond(k, SQ01_CARD, 1)  # the thread is woken; the charge waits for it
    resp = client.post(f"/api/reviews/{item_id}/resolve", headers=login("reconciler"),
                       json={"action": "charge-shop", "note": "超市未核验余额"})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["points"], resp.json()["status"]) == (owed + 50, "pending")  # the later redemption counted
    resp = client.post(f"/api/reviews/{item_id}/approve", headers=login("admin"), json={"note": "同意"})
    assert resp.status_code == 200 and resp.json()["status"] == "resolved", resp.text
    while positions(ctx)[1] < positions(ctx)[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert positions(ctx)[0] == positions(ctx)[1] and points(ctx, SQ01_CARD) == 0
    assert audit(ctx).ok
