"""Ledger rules: how a batch of events becomes double-entry postings, stock moves and what
central staff must review. Pure: the server hands in a ``View`` of the state the batch
touches and receives a ``Plan`` to persist in one transaction; the kiosk uses the same
rules for its pending view.

What each kind of event does is its kind's (``sync.kinds``); this module walks a batch
and asks each event's kind. The values (accounts, postings, views, plans) live in
``sync.postings`` and are re-exported here. Every event's postings sum to zero; a balance
is the sum of an account's postings, and a stored balance is a cache of that fold.
"""

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
           "StockMove", "Target", "View", "effects", "fold", "periods", "plan_batch", "references",
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


def plan_batch(events: list, kiosk: str, shop: str, view: View) -> Plan:
    """Turn a verified, structurally valid batch into postings, stock moves and reviews.

    Raises ``RequestRejected('invalid_batch')`` for what no honest kiosk can send (a
    reference that never existed, a duplicate id, a sign that contradicts the rule kind).
    Business conflicts never reject: they are applied and reviewed. So is a kiosk event
    whose operator is unknown, retired, of another shop, or not the supervisor its kind
    needs (``screen_operator``).
    """
    step = Step(view, Plan(), kiosk, shop, dict(view.targets))
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
