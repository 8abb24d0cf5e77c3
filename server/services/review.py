"""The review queue: items the ledger raised, with their evidence, and their resolution.

Resolutions, each exactly once per item:

* ``accept`` — what happened stands; only the note is recorded.
* ``adjust`` — a compensating ``Adjust`` of ``points`` (±) to the item's resident, against
  ``programme:adjustments``.
* ``charge-shop`` — a ``Charge`` crediting the resident ``points`` (by default what clears
  an overdraft) against the shop's account, so the shop's settlement shrinks by as much.
* ``write-off`` — a ``Charge`` against ``programme:writeoff``: the programme absorbs it.

Ledger resolutions are central events in a ``CentralBatch`` signed with the server key,
carrying the staff id and the item id. Items without a resident (a fork, a clock, stock
below zero) can be accepted, charged or written off as a recorded resolution only.

Who wins a race: the conditional ``UPDATE ... WHERE status = 'open'`` inside the write
transaction (``BEGIN IMMEDIATE``); the loser's transaction rolls back whole.
"""

import json

from schema.wire import Adjust, Charge
from server.errors import Conflict, Invalid, NotFound
from server.services.central import append_central, next_central_ids
from server.services.context import Context
from server.services.staff import Principal, record, require, scope_filter
from server.store import catalog, chain, ledger
from server.store import staff as store
from sync.ledger import resident_account

ACTIONS = ("accept", "adjust", "charge-shop", "write-off")
MAX_POINTS = 1_000_000
NEARBY_MS = 3 * 86_400_000
EVIDENCE_EVENTS = 30


def community_of(db, item: dict) -> str | None:
    """The community an item belongs to: its resident's, else its shop's, else its kiosk's shop's."""
    if item.get("resident"):
        r = catalog.row_by_key(db, "residents", item["resident"])
        if r:
            return r["community"]
    shop = item.get("shop")
    if not shop and item.get("kiosk"):
        k = catalog.row_by_key(db, "kiosks", item["kiosk"])
        shop = k["shop"] if k else None
    s = catalog.row_by_key(db, "shops", shop) if shop else None
    return s["community"] if s else None


def list_items(ctx: Context, who: Principal, open_only: bool = False, community: str | None = None,
               with_evidence: bool = False) -> list[dict]:
    require(who, "review.read")
    allowed = scope_filter(who, community)
    out = []
    with ctx.store.read() as db:
        for item in ledger.list_reviews(db, open_only):
            item["community"] = community_of(db, item)
            if allowed is not None and item["community"] not in allowed:
                continue
            item["resolution"] = store.resolution_of(db, item["id"])
            if with_evidence:
                item["evidence"] = evidence(db, item)
            out.append(item)
    return out


def show_item(ctx: Context, who: Principal, item_id: int) -> dict:
    require(who, "review.read")
    with ctx.store.read() as db:
        item = store.review_by_id(db, item_id)
        if item is None:
            raise NotFound("review item", item_id)
        item["community"] = community_of(db, item)
        require(who, "review.read", item["community"], scoped=True)
        item["resolution"] = store.resolution_of(db, item_id)
        item["evidence"] = evidence(db, item)
    return item


def _event_view(row: dict) -> dict:
    out = {k: row[k] for k in ("id", "kind", "kiosk", "shop", "operator", "resident", "at", "received_at", "voided_by")}
    out["body"] = json.loads(bytes(row["body"]))
    return out


def evidence(db, item: dict) -> dict:
    """The events, kiosks, operators and times an item is about."""
    detail = item["detail"]
    ids = [i for i in (item.get("event"), detail.get("target")) if i]
    rows = {r["id"]: r for r in ledger.events_by_id(db, ids)}
    subject = rows.get(item.get("event"))
    related: list[dict] = []
    if item.get("resident"):
        at = subject["at"] if subject else item["created_at"]
        same = (subject["kind"], detail.get("rule")) if item["kind"] == "cap_exceeded" and subject is not None else None
        related = ledger.resident_events_between(db, item["resident"], at - NEARBY_MS, at + NEARBY_MS, EVIDENCE_EVENTS, same)
    events = {r["id"]: r for r in [*rows.values(), *related]}
    kiosk_ids = {e["kiosk"] for e in events.values()} | ({item["kiosk"]} if item.get("kiosk") else set())
    kiosks = [
        {k: row[k] for k in ("id", "shop", "label", "status", "enrolled_at", "last_push_at", "last_pull_at", "clock_skew_ms")}
        for kid in sorted(kiosk_ids) if (row := catalog.row_by_key(db, "kiosks", kid))
    ]
    operators = []
    for e in sorted(events.values(), key=lambda e: e["id"]):
        op = catalog.row_by_key(db, "operators", e["operator"]) if e["kiosk"] != "C" and e["operator"] else None
        entry = {"id": e["operator"], "kiosk": e["kiosk"], "name": op["name"] if op else None,
                 "shop": op["shop"] if op else None, "role": op["role"] if op else ("staff" if e["kiosk"] == "C" else None)}
        if entry not in operators:
            operators.append(entry)
    out = {
        "events": [_event_view(e) for e in sorted(events.values(), key=lambda e: (e["at"], e["id"]))],
        "kiosks": kiosks,
        "operators": operators,
        "times": {"raised": item["created_at"], "event_at": subject["at"] if subject else None,
                  "received_at": subject["received_at"] if subject else None},
    }
    if item.get("resident"):
        out["balance"] = ledger.account_total(db, resident_account(item["resident"]))
    if "quarantine" in detail:
        q = chain.quarantine_summary(db, detail["quarantine"])
        if q:
            out["quarantine"] = q
    return out


def resolve(ctx: Context, who: Principal, item_id: int, action: str, note: str, points: int | None = None) -> dict:
    """Resolve an open item once. ``Conflict`` if it is already resolved (or just was)."""
    require(who, "review.resolve")
    if action not in ACTIONS:
        raise Invalid(f"action must be one of {', '.join(ACTIONS)}", action=action)
    note = (note or "").strip()
    if not note or len(note) > 500:
        raise Invalid("a note of 1-500 characters says why")
    if points is not None and (points == 0 or abs(points) > MAX_POINTS):
        raise Invalid(f"points must be non-zero and within ±{MAX_POINTS}", points=points)
    with ctx.store.write() as db:
        item = store.review_by_id(db, item_id)
        if item is None:
            raise NotFound("review item", item_id)
        require(who, "review.resolve", community_of(db, item), scoped=True)
        if not store.close_review(db, item_id):
            done = store.resolution_of(db, item_id) or {}
            raise Conflict(f"review item {item_id} is already resolved", review=item_id, by=done.get("staff"))
        event = compensation(ctx, db, who, item, action, note, points)
        if event is not None:
            append_central(ctx, db, [event])
            points = event.points
        now = ctx.now()
        store.insert_resolution(db, item_id, action, who.username, now, note, points, event.id if event else None)
        record(db, ctx, who, "review_resolve", str(item_id),
               {"action": action, "points": points, "event": event.id if event else None, "note": note, "kind": item["kind"]})
    return {"review": item_id, "action": action, "staff": who.username, "at": now, "note": note,
            "points": points, "event": event.id if event else None, "status": "resolved"}


def compensation(ctx: Context, db, who: Principal, item: dict, action: str, note: str, points: int | None):
    """The central event a resolution posts, or None for a recorded-only resolution."""
    if action == "accept":
        if points is not None:
            raise Invalid("accept posts nothing: leave out --points, or choose adjust")
        return None
    resident = item.get("resident")
    if resident is None:
        if action == "adjust" or points is not None:
            raise Invalid(f"review item {item['id']} names no resident to credit or debit", review=item["id"])
        return None  # charge-shop / write-off of a stock or chain item: recorded, no postings
    balance = ledger.account_total(db, resident_account(resident))
    if action == "adjust":
        if points is None:
            raise Invalid("adjust needs --points (positive credits, negative debits the resident)")
    elif points is None:
        if balance >= 0:
            raise Invalid(f"resident {resident} is not overdrawn ({balance}); give --points", balance=balance)
        points = -balance
        if points > MAX_POINTS:
            raise Invalid(f"the overdraft of {points} exceeds one correction's ±{MAX_POINTS}; give --points", points=points)
    elif points < 0:
        raise Invalid("charge-shop and write-off credit the resident: points must be positive", points=points)
    (eid, kseq), = next_central_ids(db, 1)
    reason = f"review {item['id']}: {note}"[:500]
    at = ctx.now()
    if action == "adjust":
        return Adjust(id=eid, kseq=kseq, at=at, staff=who.username, resident=resident, points=points, reason=reason, review=item["id"])
    if action == "charge-shop":
        shop = item.get("shop") or item["detail"].get("shop")
        if not shop:
            raise Invalid(f"review item {item['id']} names no shop to charge", review=item["id"])
        return Charge(id=eid, kseq=kseq, at=at, staff=who.username, resident=resident, points=points,
                      against="shop", shop=shop, reason=reason, review=item["id"])
    return Charge(id=eid, kseq=kseq, at=at, staff=who.username, resident=resident, points=points,
                  against="writeoff", reason=reason, review=item["id"])
