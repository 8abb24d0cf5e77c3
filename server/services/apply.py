"""Applying the events of a verified batch to the ledger, inside the caller's transaction.

Fetch the ``View`` the events touch, let ``sync.ledger.plan_batch`` decide, then write the
events, postings, stock moves, cap counters, voids, review items and feed rows. Shared by
kiosk batches and the server's own central batches, so both follow the same rules.
"""

from schema.wire import CentralEvent, KioskEvent, StockRec
from server.services import feed, voice
from server.store import Tx, catalog, ledger
from sync import codec, kinds
from sync.crashpoint import crash_point
from sync.ledger import ADJUSTMENTS, ISSUED, Plan, View, plan_batch, references, resident_account, shop_account

RESIDENT_PREFIX = resident_account("")

Event = KioskEvent | CentralEvent


def apply_events(db: Tx, events: list[Event], kiosk: str, shop: str, batch_seq: int, now: int) -> Plan:
    """Plan and write ``events``. Raises ``RequestRejected`` (writing nothing) when the plan does."""
    plan = plan_batch(events, kiosk, shop, read_view(db, events, shop))
    write_events(db, events, kiosk, shop, batch_seq, now)
    at_of = {ev.id: ev.at for ev in events}
    ledger.insert_postings(db, plan.postings, at_of)
    crash_point("server.apply.after_postings")
    ledger.insert_stock_moves(db, plan.stock_moves)
    ledger.set_award_counts(db, plan.counts)
    for target, void_id in voids_applied(events, plan):
        ledger.mark_voided(db, target, void_id)
    for r in plan.reviews:
        ledger.insert_review(db, r.kind, now, kiosk, r.event, r.resident, shop or r.detail.get("shop"), r.detail)
    voice.receive(db, events, plan, kiosk, shop, now)
    publish_touched(db, plan)
    return plan


def read_view(db: Tx, events: list[Event], shop: str) -> View:
    refs = references(events)
    targets = ledger.void_targets(db, refs.targets)
    accounts = {resident_account(c) for c in refs.cards} | {ISSUED, ADJUSTMENTS, shop_account(shop)}
    stock_keys = {(shop, sku) for sku in refs.skus} | refs.stock
    for t in targets.values():
        accounts.update(a for a, _ in t.postings)
        stock_keys.update((s, k) for s, k, _ in t.stock)
    return View(
        residents=catalog.resident_statuses(db, refs.cards),
        rules=catalog.rule_infos(db, refs.rules),
        goods=catalog.good_infos(db, refs.skus),
        balances=ledger.balances_of(db, accounts),
        stock=ledger.stock_of(db, stock_keys),
        targets=targets,
        known_ids=ledger.known_event_ids(db, [ev.id for ev in events]),
        counts=ledger.award_counts_of(db, refs.counts),
        operators=catalog.operator_infos(db, refs.operators),
        voices=voice.view_of(db, refs.voices),
    )


def write_events(db: Tx, events: list[Event], kiosk: str, shop: str, batch_seq: int, now: int) -> None:
    """Each event under the columns its kind names (``sync.kinds``)."""
    rows = []
    for ev in events:
        cols = kinds.kind_of(ev).columns(ev)
        rows.append({
            "id": ev.id,
            "kiosk": kiosk,
            "batch_seq": batch_seq,
            "kseq": ev.kseq,
            "kind": kinds.tag_of(ev),
            "at": ev.at,
            "received_at": now,
            "resident": cols.resident,
            "operator": cols.operator,
            "shop": cols.shop or shop or None,
            "body": codec.encode(ev),
        })
    ledger.insert_events(db, rows)


def voids_applied(events: list[Event], plan: Plan) -> list[tuple[str, str]]:
    """(target, void id) for each void the plan actually applied: the first void of each
    target in batch order (a repeated void is only reviewed)."""
    remaining = list(plan.voided)
    out = []
    for ev in events:
        target = kinds.kind_of(ev).target(ev)
        if target is not None and target in remaining:
            remaining.remove(target)
            out.append((target, ev.id))
    return out


def publish_touched(db: Tx, plan: Plan) -> None:
    """Move the feed rows of every resident balance and shop stock the plan changed."""
    accounts = sorted({p.account for p in plan.postings if p.account.startswith(RESIDENT_PREFIX)})
    feed.publish_balances(db, {account[len(RESIDENT_PREFIX):]: points for account, points in ledger.balances_of(db, accounts).items()})
    keys = sorted({(m.shop, m.sku) for m in plan.stock_moves})
    feed.publish_many(db, "stock", [StockRec(shop=shop, sku=sku, qty=qty)
                                    for (shop, sku), qty in sorted(ledger.stock_of(db, keys).items())])
