"""The pending part of a balance and of the shop's stock: what this kiosk's own events
change that the mirrored figures from the server do not show yet.

The same ledger rules the server applies (``sync.ledger.effects``) are used here, so the
kiosk's "pending" is exactly what the server will post. A void undoes its target's effect.
"""

from collections.abc import Callable, Iterable

from schema.wire import KioskEvent
from sync import kinds
from sync.ledger import effects, resident_account


def decode_event(body: bytes) -> KioskEvent:
    """A stored event of any kind registered in ``sync.kinds``."""
    return kinds.decode_event(body)


def _signed_effects(ev: KioskEvent, lookup: Callable[[str], KioskEvent | None], shop: str):
    kind = kinds.kind_of(ev)
    if kind.reverses:
        target = lookup(kind.target(ev))
        if target is None or kinds.kind_of(target).reverses:
            return -1, [], []
        return -1, *effects(target, shop)
    return 1, *effects(ev, shop)


def points_delta(events: Iterable[KioskEvent], lookup: Callable[[str], KioskEvent | None], card: str, shop: str) -> int:
    """How far ``events`` move the resident's balance."""
    account = resident_account(card)
    total = 0
    for ev in events:
        sign, postings, _ = _signed_effects(ev, lookup, shop)
        total += sign * sum(p.amount for p in postings if p.account == account)
    return total


def stock_delta(events: Iterable[KioskEvent], lookup: Callable[[str], KioskEvent | None], shop: str) -> dict[str, int]:
    """How far ``events`` move this shop's stock, per SKU."""
    out: dict[str, int] = {}
    for ev in events:
        sign, _, moves = _signed_effects(ev, lookup, shop)
        for m in moves:
            if m.shop == shop:
                out[m.sku] = out.get(m.sku, 0) + sign * m.delta
    return out
