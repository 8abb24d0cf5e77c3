"""The review queue: evidence, each resolution kind, resolving once, and the race between
two staff resolving the same item at the same moment."""

import json
import threading

import pytest

from schema.types import CENTRAL_KIOSK
from schema.wire import CentralBatch
from server.cli import main
from server.services import open_context
from server.services.audit import audit
from server.services.review import resolve
from server.errors import Conflict
from server.services.staff import acting_as
from server.store import chain, ledger
from sync import codec
from sync.signing import VerifyKey
from tests.server.helpers import points
from tests.server.staff.conftest import SQ01_CARD


def account(ctx, name: str) -> int:
    with ctx.store.read() as db:
        return ledger.account_total(db, name)


def central_events(ctx) -> list:
    with ctx.store.read() as db:
        rows = [(b["body"], b["signature"]) for b in chain.batches_in_order(db) if b["kiosk"] == CENTRAL_KIOSK]
    out = []
    for body, sig in rows:
        VerifyKey(ctx.key.public_hex).verify("central", bytes(body), sig)
        out += codec.decode(bytes(body), CentralBatch).events
    return out


def test_items_are_listed_with_their_evidence(client, login, items):
    item = client.get(f"/api/reviews/{items['SQ01']}", headers=login("reconciler")).json()
    ev = item["evidence"]
    assert item["kind"] == "overdraft" and item["community"] == "SQ01" and ev["balance"] < 0
    redeem = [e for e in ev["events"] if e["id"] == item["event"]][0]
    assert redeem["kind"] == "redeem" and redeem["body"]["items"][0]["sku"] == "TOWEL"
    assert [k["id"] for k in ev["kiosks"]] == [items["k1"].id]
    assert {"id": "op1", "kiosk": items["k1"].id} .items() <= ev["operators"][0].items() and ev["operators"][0]["name"]
    assert ev["times"]["event_at"] == redeem["at"] and ev["times"]["received_at"]


def test_accept_records_a_note_and_posts_nothing(client, login, ctx, items):
    before = len(central_events(ctx))
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("reconciler"),
                       json={"action": "accept", "note": "居民已补交"})
    assert resp.status_code == 200 and resp.json()["event"] is None
    assert len(central_events(ctx)) == before
    item = client.get(f"/api/reviews/{items['SQ01']}", headers=login("auditor")).json()
    assert item["status"] == "resolved" and item["resolution"]["note"] == "居民已补交" and item["resolution"]["staff"] == "rex"
    log = client.get("/api/audit-log?action=review_resolve", headers=login("auditor")).json()
    assert [(r["staff"], r["subject"], r["detail"]["action"]) for r in log] == [("rex", str(items["SQ01"]), "accept")]


def test_adjust_posts_a_signed_central_event_with_staff_and_item(client, login, ctx, items):
    was = points(ctx, SQ01_CARD)
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("admin"),
                       json={"action": "adjust", "points": 25, "note": "补录志愿服务"})
    assert resp.status_code == 200
    assert points(ctx, SQ01_CARD) == was + 25
    ev = central_events(ctx)[-1]
    assert (type(ev).__name__, ev.staff, ev.review, ev.points, ev.resident) == ("Adjust", "ada", items["SQ01"], 25, SQ01_CARD)
    assert resp.json()["event"] == ev.id
    assert audit(ctx).ok


def test_charge_shop_clears_the_overdraft_against_the_shop(client, login, ctx, items):
    owed = -points(ctx, SQ01_CARD)
    shop_before = account(ctx, "shop:S01")
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("reconciler"),
                       json={"action": "charge-shop", "note": "超市未核验余额"})
    assert resp.status_code == 200 and resp.json()["points"] == owed > 0
    assert points(ctx, SQ01_CARD) == 0
    assert account(ctx, "shop:S01") == shop_before - owed
    ev = central_events(ctx)[-1]
    assert (type(ev).__name__, ev.against, ev.shop, ev.review) == ("Charge", "shop", "S01", items["SQ01"])
    assert audit(ctx).ok


def test_write_off_posts_to_the_programme(client, login, ctx, items):
    owed = -points(ctx, SQ01_CARD)
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("reconciler"),
                       json={"action": "write-off", "note": "困难户，核销"})
    assert resp.status_code == 200
    assert points(ctx, SQ01_CARD) == 0 and account(ctx, "programme:writeoff") == -owed
    assert audit(ctx).ok


@pytest.mark.parametrize("body,why", [
    ({"action": "adjust", "note": "x"}, "adjust needs --points"),
    ({"action": "accept", "note": "x", "points": 5}, "accept posts nothing"),
    ({"action": "adjust", "note": "", "points": 5}, "a note"),
    ({"action": "adjust", "note": "x", "points": 0}, "non-zero"),
    ({"action": "write-off", "note": "x", "points": -5}, "positive"),
])
def test_bad_resolutions_change_nothing(client, login, ctx, items, body, why):
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("admin"), json=body)
    assert resp.status_code == 422 and why in resp.json()["error"]["message"]
    assert client.get(f"/api/reviews/{items['SQ01']}", headers=login("admin")).json()["status"] == "open"


def test_unknown_action_is_a_malformed_request(client, login, items):
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("admin"), json={"action": "delete", "note": "x"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "malformed_request"


def test_an_item_is_resolved_once(client, login, items):
    body = {"action": "adjust", "points": 10, "note": "first"}
    assert client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("admin"), json=body).status_code == 200
    resp = client.post(f"/api/reviews/{items['SQ01']}/resolve", headers=login("reconciler"), json=body)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "conflict"
    assert resp.json()["error"]["detail"]["by"] == "ada"
    assert client.post("/api/reviews/99999/resolve", headers=login("admin"), json=body).status_code == 404


def test_concurrent_resolutions_one_wins(ctx, settings, items):
    """Eight threads over two connections (this server and a second process's store on the
    same file) resolve the same item at once: exactly one succeeds, one adjustment posts."""
    other = open_context(settings)
    try:
        ctxs = [ctx, other] * 4
        who = [acting_as(c, n) for c, n in zip(ctxs, ["ada", "rex"] * 4)]
        start = threading.Barrier(len(ctxs))
        results: list = [None] * len(ctxs)

        def run(i: int) -> None:
            start.wait()
            try:
                results[i] = resolve(ctxs[i], who[i], items["SQ01"], "adjust", f"thread {i}", 7)
            except Conflict as exc:
                results[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(ctxs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.close()
    wins = [r for r in results if isinstance(r, dict)]
    assert len(wins) == 1 and all(isinstance(r, Conflict) for r in results if r is not wins[0])
    adjusts = [e for e in central_events(ctx) if getattr(e, "review", None) == items["SQ01"]]
    assert len(adjusts) == 1 and adjusts[0].id == wins[0]["event"]
    assert audit(ctx).ok


def test_cli_lists_evidence_and_resolves(settings, items, capsys):
    data = str(settings.data_dir)
    assert main(["review", "list", "--open", "--json", "--data", data]) == 0
    listed = json.loads(capsys.readouterr().out)
    item = [i for i in listed if i["id"] == items["SQ01"]][0]
    assert item["evidence"]["events"] and item["evidence"]["kiosks"]
    argv = ["review", "resolve", str(items["SQ01"]), "--action", "write-off", "--note", "核销", "--staff", "rex", "--data", data, "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["action"] == "write-off" and out["staff"] == "rex" and out["event"].startswith("C-")
    assert main(argv) == 3  # already resolved
    assert "already resolved" in capsys.readouterr().err
    assert main(["review", "resolve", str(items["SQ01"]), "--action", "accept", "--note", "x", "--staff", "aud", "--data", data]) == 2
