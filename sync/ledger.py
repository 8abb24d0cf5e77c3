"""Ledger rules: how a batch of events becomes double-entry postings, stock moves and what
central staff must review. Pure: the server hands in a ``View`` of the state the batch
touches and receives a ``Plan`` to persist in one transaction; the kiosk uses the same
rules for its pending view.

What each kind of event does is its kind's (``sync.kinds``); this module walks a batch
and asks each event's kind. The values (accounts, postings, views, plans) live in
``sync.postings`` and are re-exported here. Every event's postings sum to zero; a balance
is the sum of an account's postings, and a stored balance is a cache of that fold.
"""

import msgspec
from collections.abc import Iterable

from sync import kinds
from sync.kinds.award import periods
from sync.kinds.base import Step, reject, screen_operator
from sync.postings import (
    ADJUSTMENTS,
    ISSUED,
    WRITEOFF,
    GoodInfo,
    OperatorInfo,
    Plan,
    Posting,
    Refs,
    Review,
    RuleInfo,
    StockMove,
    Target,
    View,
    resident_account,
    shop_account,
)

__all__ = ["ADJUSTMENTS", "ISSUED", "WRITEOFF", "GoodInfo", "OperatorInfo", "Plan", "Posting", "Refs", "Review", "RuleInfo",
           "StockMove", "Target", "View", "derive", "effects", "fold", "periods", "plan_batch", "references",
           "resident_account", "shop_account", "target_of"]


def references(events: Iterable) -> Refs:
    """What a batch refers to: what the caller must fetch into its ``View``."""
    refs = Refs()
    for ev in events:
        kind = kinds.kind_of(ev)
        kind.refs(ev, refs)
        if kind.origin == "kiosk":
            refs.operators.add(ev.operator)
    return refs


def effects(ev, shop: str) -> tuple[list[Posting], list[StockMove]]:
    """Postings and stock moves of one event that does not reverse another. Postings sum to zero."""
    return kinds.kind_of(ev).effects(ev, shop)


def target_of(ev, kiosk: str, shop: str) -> Target:
    return kinds.kind_of(ev).target_of(ev, kiosk, shop)


def plan_batch(events: list, kiosk: str, shop: str, view: View, targets: dict[str, Target] | None = None,
               wanted: set[str] | None = None, at: int = 0) -> Plan:
    """Turn a verified, structurally valid batch into postings, stock moves and reviews.

    Raises ``RequestRejected('invalid_batch')`` for what no honest kiosk can send (a
    reference that never existed, a duplicate id, a sign that contradicts the rule kind).
    Business conflicts never reject: they are applied and reviewed. So is a kiosk event
    whose operator is unknown, retired, of another shop, or not the supervisor its kind
    needs (``screen_operator``).

    ``targets``: the void targets to plan against and update (a projection chunk shares one
    dict across its batches); by default a copy of the view's. ``wanted``: the only event ids
    whose effects are added to ``targets`` (the ids the run's voids name); None: every id's.
    ``at``: when the server acknowledged the batch (a volunteer task closed before it takes no
    claims from it).
    """
    step = Step(view, Plan(), kiosk, shop, dict(view.targets) if targets is None else targets, wanted, at)
    for ev in events:
        if ev.id in view.known_ids:
            raise reject(ev, "this event id is already recorded")
        kind = kinds.kind_of(ev)
        if kind.origin == "kiosk":
            screen_operator(ev, step, kind.needs_supervisor)
        kind.plan(ev, step)
    return step.plan


def fold(postings: Iterable[Posting]) -> dict[str, int]:
    """Balances as a fold over postings: the definition every cache is checked against."""
    out: dict[str, int] = {}
    for p in postings:
        out[p.account] = out.get(p.account, 0) + p.amount
    return out


def derive(events: list, kiosk: str, shop: str, targets: dict[str, Target], voided: set[str],
           applied: dict[str, int] | None = None) -> tuple[list[Posting], list[StockMove]]:
    """The postings and stock moves applying ``events`` wrote, re-derived from the events
    alone: what ``audit`` compares the stored ones with. Balances, rules and goods decide
    rejections and reviews, never what is posted, so no ``View`` is needed. A void undoes
    its target (``targets``: the earlier events its voids name, as stored) only when the
    target exists, is this kiosk's, is not itself a reversal and was not voided before
    (``voided``: targets already undone, in the order batches were applied; updated here),
    as ``sync.kinds.void`` decides at push time. ``applied``: event id -> the points an award
    was applied at instead of its recorded points (``sync.kinds.award``: a value its rule
    never had is applied at the rule's value), as its ``award_value_unknown`` review item
    says."""
    posts: list[Posting] = []
    moves: list[StockMove] = []
    local = dict(targets)
    for ev in events:
        kind = kinds.kind_of(ev)
        if not kind.reverses:
            points = (applied or {}).get(ev.id)
            if points is not None:
                ev = msgspec.structs.replace(ev, points=points)
            p, m = kind.effects(ev, shop)
            posts += p
            moves += m
            local[ev.id] = kind.target_of(ev, kiosk, shop)
            continue
        target = local.get(kind.target(ev))
        local[ev.id] = Target(kind.tag, kiosk, (), (), False)
        if target is None or kinds.lookup(target.kind).reverses or target.kiosk != kiosk or kind.target(ev) in voided:
            continue
        posts += [Posting(ev.id, account, -amount) for account, amount in target.postings]
        moves += [StockMove(ev.id, s, sku, -delta) for s, sku, delta in target.stock]
        voided.add(kind.target(ev))
    return posts, moves
