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

Who may: an item touches every community of its resident, its shop(s) and its kiosk's
shop; a community manager sees an item touching one of theirs, and resolves only one whose
every community is theirs. ``charge-shop`` and ``write-off`` move points onto a shop's
settlement or the programme's budget: a money decision for ``admin`` and ``reconciler``
(permission ``review.charge``), never a community manager's.

How much: a resolution moves at most what its item is about (``bound_of``: the overdraft,
the difference from the rule's value, the event's points). Beyond that it is *proposed*
(``pending_resolutions``) and posts nothing until a second staff member, allowed the same
action on every community the item touches, approves it (``decide``); the proposer may only
withdraw it. Proposal, approval and decline are each one transaction with their audit row.

Which ledger: ``charge-shop`` and ``write-off`` read the resident's balance (the overdraft
they clear), so outside ``JIFEN_PROJECTION=inline`` they first wait for the projection to
catch up with the log (``server.services.central.ledger_current``; 409 ``ledger_behind``
past ``JIFEN_PROJECTION_WAIT_SECONDS``).

Who wins a race: the conditional ``UPDATE ... WHERE status = 'open'`` inside the write
transaction (``BEGIN IMMEDIATE``); the loser's transaction rolls back whole.
"""

import json

from schema.types import CENTRAL_KIOSK
from schema.wire import Adjust, Charge
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.reports.evidence import evidence_lines
from server.services.central import append_central, ledger_current, next_central_ids
from server.services.context import Context
from server.services.staff import Principal, record, require, scope_filter
from server.store import catalog, chain, ledger
from server.store import staff as store
from sync.ledger import resident_account

ACTIONS = ("accept", "adjust", "charge-shop", "write-off")
#: actions that charge a shop or the programme: permission ``review.charge``
CHARGING = frozenset({"charge-shop", "write-off"})
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


def communities_of(db, item: dict) -> list[str]:
    """Every community an item touches: its resident's, and those of its shop, the shop its
    detail names and its kiosk's shop (a resident overdrawn at another community's shop
    touches both)."""
    out = set()
    if item.get("resident"):
        r = catalog.row_by_key(db, "residents", item["resident"])
        if r:
            out.add(r["community"])
    shops = {item.get("shop"), item["detail"].get("shop")}
    if item.get("kiosk"):
        k = catalog.row_by_key(db, "kiosks", item["kiosk"])
        shops.add(k["shop"] if k else None)
    for shop in shops - {None}:
        row = catalog.row_by_key(db, "shops", shop)
        if row:
            out.add(row["community"])
    return sorted(out)


def require_everywhere(who: Principal, permission: str, communities: list[str]) -> None:
    """``require`` in every community an item touches (a scoped role needs at least one)."""
    for c in communities or [None]:
        require(who, permission, c, scoped=True)


def _annotate(db, item: dict) -> dict:
    item["community"] = community_of(db, item)
    item["communities"] = communities_of(db, item)
    item["resolution"] = store.resolution_of(db, item["id"])
    item["pending"] = store.pending_resolution_of(db, item["id"])
    return item


def list_items(ctx: Context, who: Principal, open_only: bool = False, community: str | None = None,
               with_evidence: bool = False) -> list[dict]:
    require(who, "review.read")
    allowed = scope_filter(who, community)
    with ctx.store.read() as db:
        return _visible(db, ledger.list_reviews(db, open_only), allowed, with_evidence)


def page_of_items(ctx: Context, who: Principal, open_only: bool = True, kind: str | None = None,
                  before: int | None = None, size: int = 50) -> list[dict]:
    """Up to ``size`` items ``who`` may see, newest first, with ids below ``before``: a page
    of the queue, read a page at a time (a scoped role's pages may take several reads)."""
    require(who, "review.read")
    allowed = scope_filter(who, None)
    out: list[dict] = []
    with ctx.store.read() as db:
        while len(out) < size:
            rows = ledger.list_reviews(db, open_only, kind, newest_first=True, before=before, limit=size * 4)
            if not rows:
                break
            out += _visible(db, rows, allowed, False)
            before = rows[-1]["id"]
    return out[:size]


def _visible(db, rows: list[dict], allowed: list[str] | None, with_evidence: bool) -> list[dict]:
    """The ``rows`` a caller limited to ``allowed`` communities may see, annotated."""
    out = []
    for item in rows:
        item["communities"] = communities_of(db, item)
        if allowed is not None and not set(allowed) & set(item["communities"]):
            continue
        _annotate(db, item)
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
        _annotate(db, item)
        if not any(who.sees(c) for c in item["communities"] or [None]):
            raise Forbidden(f"{who.username} manages none of the communities of review item {item_id}",
                            communities=item["communities"])
        item["evidence"] = evidence(db, item)
    return item


def describe_item(ctx: Context, who: Principal, item_id: int, lang: str = "zh") -> dict:
    """A review item written for a person: ``show_item``'s item (``item``) and ``lines`` in
    ``lang`` — who (resident's name and card), which shop and kiosk by name, when in local
    time, which events with their kinds and points, the balance before and after."""
    item = show_item(ctx, who, item_id)
    with ctx.store.read() as db:
        ev = item["evidence"]
        cards = {e["resident"] for e in ev["events"] if e.get("resident")} | ({item["resident"]} if item.get("resident") else set())
        residents = {c: r["name"] for c in cards if (r := catalog.row_by_key(db, "residents", c))}
        shops = {s["id"]: s["name"] for s in catalog.list_rows(db, "shops")}
        goods = {g["sku"]: g["name"] for g in catalog.list_rows(db, "goods")}
        around = None
        if item.get("resident") and item.get("event"):
            around = ledger.balance_around(db, resident_account(item["resident"]), item["event"])
    return {"item": item, "lines": evidence_lines(item, residents, shops, goods, around, lang)}


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
        op = catalog.row_by_key(db, "operators", e["operator"]) if e["kiosk"] != CENTRAL_KIOSK and e["operator"] else None
        entry = {"id": e["operator"], "kiosk": e["kiosk"], "name": op["name"] if op else None,
                 "shop": op["shop"] if op else None, "role": op["role"] if op else ("staff" if e["kiosk"] == CENTRAL_KIOSK else None)}
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


def bound_of(db, item: dict) -> int:
    """The most points a resolution of ``item`` may move without a second person: what the
    item is about (an overdraft's depth, the difference from the rule's value, the points
    or total of its event); 0 for an item about no amount."""
    detail = item["detail"]
    if item["kind"] == "overdraft" and isinstance(detail.get("balance_after"), int):
        return max(0, -detail["balance_after"])
    if item["kind"] == "award_value_unknown":
        return abs(int(detail.get("difference", 0)))
    if item["kind"] == "rule_value_mismatch":
        return abs(int(detail.get("recorded", 0)) - int(detail.get("current", 0)))
    if item.get("event"):
        rows = ledger.events_by_id(db, [item["event"]])
        body = json.loads(bytes(rows[0]["body"])) if rows else {}
        amount = body.get("points", body.get("total", 0))
        return abs(amount) if isinstance(amount, int) else 0
    return 0


def resolve(ctx: Context, who: Principal, item_id: int, action: str, note: str, points: int | None = None) -> dict:
    """Resolve an open item once. ``Conflict`` if it is already resolved (or just was), or a
    proposal for it awaits a second person. A resolution moving more than ``bound_of`` the
    item is recorded as a proposal (``status: pending``) and posts nothing yet."""
    require(who, "review.resolve")
    if action not in ACTIONS:
        raise Invalid(f"action must be one of {', '.join(ACTIONS)}", action=action, field="action")
    if action in CHARGING:
        require(who, "review.charge")
    note = _note(note)
    if points is not None and (points == 0 or abs(points) > MAX_POINTS):
        raise Invalid(f"points must be non-zero and within ±{MAX_POINTS}", points=points, field="points")
    if action in CHARGING:
        ledger_current(ctx, action)  # it reads the resident's balance: the ledger must hold the log
    with ctx.store.write() as db:
        item = store.review_by_id(db, item_id)
        if item is None:
            raise NotFound("review item", item_id)
        require_everywhere(who, "review.resolve", communities_of(db, item))
        if item["status"] != "open":
            raise _resolved(db, item_id)
        if (waiting := store.pending_resolution_of(db, item_id)) is not None:
            raise Conflict(f"review item {item_id} has a resolution by {waiting['staff']} awaiting approval; approve or decline it first",
                           review=item_id, by=waiting["staff"], state="pending")
        points = points_of(db, item, action, points)
        bound = bound_of(db, item)
        now = ctx.now()
        if points is not None and abs(points) > bound:
            store.insert_pending_resolution(db, item_id, action, points, bound, who.username, now, note)
            record(db, ctx, who, "review_propose", str(item_id),
                   {"action": action, "points": points, "bound": bound, "note": note, "kind": item["kind"]})
            return {"review": item_id, "action": action, "staff": who.username, "at": now, "note": note,
                    "points": points, "bound": bound, "event": None, "status": "pending"}
        return _close(ctx, db, who, item, action, note, points)


def decide(ctx: Context, who: Principal, item_id: int, approve: bool, note: str) -> dict:
    """Approve (a second person) or decline (anyone allowed, the proposer too) the
    resolution proposed for an item; approving posts it and closes the item."""
    require(who, "review.resolve")
    note = _note(note)
    with ctx.store.write() as db:
        item = store.review_by_id(db, item_id)
        if item is None:
            raise NotFound("review item", item_id)
        waiting = store.pending_resolution_of(db, item_id)
        if waiting is None:
            raise NotFound("pending resolution", item_id)
        if waiting["action"] in CHARGING:
            require(who, "review.charge")
        require_everywhere(who, "review.resolve", communities_of(db, item))
        store.delete_pending_resolution(db, item_id)
        if not approve:
            record(db, ctx, who, "review_decline", str(item_id),
                   {"action": waiting["action"], "points": waiting["points"], "proposed_by": waiting["staff"], "note": note})
            return {"review": item_id, "status": "open", "declined": waiting["action"], "staff": who.username, "note": note}
        if waiting["staff"] == who.username:
            raise Forbidden(f"{who.username} proposed this resolution: a second person approves it", review=item_id)
        return _close(ctx, db, who, item, waiting["action"], waiting["note"], waiting["points"],
                      proposed_by=waiting["staff"], approval_note=note)


def _note(note: str | None) -> str:
    note = (note or "").strip()
    if not note or len(note) > 500:
        raise Invalid("a note of 1-500 characters says why", field="note")
    return note


def _resolved(db, item_id: int) -> Conflict:
    done = store.resolution_of(db, item_id) or {}
    return Conflict(f"review item {item_id} is already resolved", review=item_id, by=done.get("staff"), state="resolved")


def _close(ctx: Context, db, who: Principal, item: dict, action: str, note: str, points: int | None,
           proposed_by: str | None = None, approval_note: str | None = None) -> dict:
    """Post the resolution's central event (if any), close the item, record both. ``who``
    resolves it, or (``proposed_by`` given) approves what ``proposed_by`` proposed: the
    event and the resolution name the proposer, the resolution and the audit row the approver."""
    item_id = item["id"]
    if not store.close_review(db, item_id):
        raise _resolved(db, item_id)
    staff = proposed_by or who.username
    approved_by = who.username if proposed_by else None
    event = central_event(ctx, db, staff, item, action, note, points, approved_by)
    if event is not None:
        append_central(ctx, db, [event])
    now = ctx.now()
    store.insert_resolution(db, item_id, action, staff, now, note, points, event.id if event else None, approved_by)
    detail = {"action": action, "points": points, "event": event.id if event else None, "note": note, "kind": item["kind"]}
    if proposed_by is None:
        record(db, ctx, who, "review_resolve", str(item_id), detail)
    else:
        record(db, ctx, who, "review_approve", str(item_id), detail | {"proposed_by": proposed_by, "approval_note": approval_note})
    return {"review": item_id, "action": action, "staff": staff, "at": now, "note": note, "points": points,
            "event": event.id if event else None, "status": "resolved", "approved_by": approved_by}


def points_of(db, item: dict, action: str, points: int | None) -> int | None:
    """The points a resolution moves (None: recorded only), checked against the item."""
    if action == "accept":
        if points is not None:
            raise Invalid("accept posts nothing: leave out --points, or choose adjust", field="points")
        return None
    resident = item.get("resident")
    if resident is None:
        if action == "adjust" or points is not None:
            raise Invalid(f"review item {item['id']} names no resident to credit or debit", review=item["id"])
        return None  # charge-shop / write-off of a stock or chain item: recorded, no postings
    if action == "adjust":
        if points is None:
            raise Invalid("adjust needs --points (positive credits, negative debits the resident)", field="points")
        return points
    if action == "charge-shop" and not (item.get("shop") or item["detail"].get("shop")):
        raise Invalid(f"review item {item['id']} names no shop to charge", review=item["id"])
    if points is None:
        balance = ledger.account_total(db, resident_account(resident))
        if balance >= 0:
            raise Invalid(f"resident {resident} is not overdrawn ({balance}); give --points", balance=balance, field="points")
        if -balance > MAX_POINTS:
            raise Invalid(f"the overdraft of {-balance} exceeds one correction's ±{MAX_POINTS}; give --points", points=-balance)
        return -balance
    if points < 0:
        raise Invalid("charge-shop and write-off credit the resident: points must be positive", points=points, field="points")
    return points


def central_event(ctx: Context, db, staff: str, item: dict, action: str, note: str, points: int | None,
                  approved_by: str | None = None):
    """The central event a resolution posts, or None for a recorded-only resolution."""
    if points is None:
        return None
    resident = item["resident"]
    (eid, kseq), = next_central_ids(db, 1)
    reason = f"review {item['id']}: {note}" + (f" (approved by {approved_by})" if approved_by else "")
    reason = reason[:500]
    at = ctx.now()
    if action == "adjust":
        return Adjust(id=eid, kseq=kseq, at=at, staff=staff, resident=resident, points=points, reason=reason, review=item["id"])
    if action == "charge-shop":
        shop = item.get("shop") or item["detail"].get("shop")
        return Charge(id=eid, kseq=kseq, at=at, staff=staff, resident=resident, points=points,
                      against="shop", shop=shop, reason=reason, review=item["id"])
    return Charge(id=eid, kseq=kseq, at=at, staff=staff, resident=resident, points=points,
                  against="writeoff", reason=reason, review=item["id"])
