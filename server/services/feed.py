"""Publishing to the pull feed: every producer (reference data, balances and stock after a
batch, boards, checkpoints, chain positions after a restore) puts its records through
here, so each row's key and scope follow the one table of feed kinds, ``schema.feeds``."""

from collections.abc import Callable
from typing import Any

from schema.feeds import FEEDS, community_scope, county_scope
from schema.wire import AcceptsRec, BalanceRec, OffersRec, ProjectedRec, ServesRec
from server.store import catalog, chain
from server.store import log as logstore
from sync import codec, kinds
from sync.protocol import OFFERED_REQUESTS


def publish(db, kind: str, rec: Any, shop: str | None = None) -> bool:
    """Move ``rec``'s feed row; True if it moved. ``shop``: the scope of a shop-scoped kind
    whose record does not name its shop (a chain row: the kiosk's shop)."""
    feed = FEEDS[kind]
    return catalog.put_feed(db, kind, feed.key(rec), feed.scope_of(rec, shop), codec.encode(rec))


def publish_many(db, kind: str, recs: list[Any], owner: Callable[[Any], str | None] | None = None) -> int:
    """``publish`` for many records of one kind in one write; how many rows moved.
    ``owner``: each record's shop or community, for a kind whose record does not name it."""
    feed = FEEDS[kind]
    return catalog.put_feed_many(db, kind, [(feed.key(r), feed.scope_of(r, owner(r) if owner else None), codec.encode(r))
                                            for r in recs])


def publish_balances(db, balances: dict[str, int]) -> int:
    """Residents' balances (card -> points), each scoped to its resident's community."""
    communities = catalog.resident_communities(db, balances)
    return publish_many(db, "balance", [BalanceRec(card=c, points=p) for c, p in sorted(balances.items())],
                        owner=lambda r: communities.get(r.card))


def publish_serves(db, shops: list[str] | None = None) -> int:
    """The ``serves`` row of each shop (every shop, when none are named): the communities
    its kiosks mirror (``catalog.served_communities``)."""
    shops = catalog.all_shop_ids(db) if shops is None else shops
    return publish_many(db, "serves", [ServesRec(shop=s, communities=catalog.served_communities(db, s)) for s in shops])


#: the mirrored kinds scoped to a community (residents, balances, letters, tasks): what a
#: shop's kiosks hold of each community they serve
COMMUNITY_KINDS = tuple(k for k, f in FEEDS.items() if f.scope == "community" and f.table is not None)


def shop_views(db) -> dict[str, tuple[str, frozenset[str]]]:
    """What each shop's kiosks see beyond the global rows: (its county, the communities
    it serves). Read before and after a change, for ``publish_views``."""
    return {s: (catalog.county_of_shop(db, s), frozenset(catalog.served_communities(db, s))) for s in catalog.all_shop_ids(db)}


def publish_views(db, before: dict[str, tuple[str, frozenset[str]]]) -> dict[str, int]:
    """After a change of what shops' kiosks see (``before``: ``shop_views`` read before
    it): each shop's kiosks get deletion rows under the shop's scope for what left their
    view (the residents, balances, letters and tasks of a community no longer served; the
    boards of the county the shop left) and the rows that came into it moved to new seqs
    (a newly served community's, the new county's boards), so a kiosk of any release
    mirrors its view without pulling from the start; then every shop's ``serves`` row.
    Returns how many deletion rows and moved rows were written."""
    after = shop_views(db)
    left = 0
    seen: dict[str, set[str]] = {}
    for shop, (county, served) in sorted(after.items()):
        was_county, was_served = before.get(shop, (county, served))
        gone = [(kind, community_scope(c)) for c in sorted(was_served - served) for kind in COMMUNITY_KINDS]
        came = [(kind, community_scope(c)) for c in sorted(served - was_served) for kind in COMMUNITY_KINDS]
        if county != was_county:
            if county_scope(was_county):  # the default county's boards are global: every kiosk keeps them
                gone.append(("board", county_scope(was_county)))
            if county_scope(county):
                came.append(("board", county_scope(county)))
        for kind, scope in gone:
            left += catalog.put_left(db, kind, [(key, shop) for key in catalog.feed_keys_in(db, kind, scope)])
        for kind, scope in came:
            seen.setdefault(kind, set()).update(catalog.feed_keys_in(db, kind, scope))
    moved = sum(catalog.touch_feed(db, kind, sorted(keys)) for kind, keys in sorted(seen.items()))
    publish_serves(db)
    return {"left": left, "moved": moved}


def rescope_boards(db, community: str, county: str) -> int:
    """Move ``community``'s board rows to ``county``'s scope (its kiosks'); the county it
    left gets a deletion row for each (``catalog.put_feed_many``). How many moved."""
    feed = FEEDS["board"]
    prefix = community + "/"
    return catalog.put_feed_many(db, "board", [(key, feed.scope_of(None, county), catalog.feed_data(db, "board", key))
                                               for key in catalog.feed_keys(db, "board") if key.startswith(prefix)])


def publish_rows(db, kind: str, rows: list[dict]) -> int:
    """Publish reference data from the server's own table rows."""
    return publish_many(db, kind, [FEEDS[kind].from_row(row) for row in rows])


def publish_accepts(db) -> bool:
    """Name the event kinds this server applies (every kiosk kind registered in
    ``sync.kinds``); the row moves only when a release changes them."""
    return publish(db, "accepts", AcceptsRec(events=sorted(kinds.tags("kiosk"))))


def publish_offers(db) -> bool:
    """Name what this server offers beyond push and pull (online lookup and history, log
    proofs, confirmation rows: ``sync.protocol.OFFERED_REQUESTS``); the row moves only when a
    release changes them."""
    return publish(db, "offers", OffersRec(requests=sorted(OFFERED_REQUESTS)))


def publish_projected(db, seqs: dict[str, int], log: int) -> int:
    """The ``projected`` row of each kiosk in ``seqs`` (kiosk -> its highest batch seq the
    ledger now holds), with the log position ``log`` the ledger holds up to; written last in
    a projection's transaction, so its feed seq is above every balance and stock row the
    projection moved. Central batches (no shop, no kiosk to tell) are left out."""
    shops = chain.kiosk_shops(db, list(seqs))
    return publish_many(db, "projected", [ProjectedRec(kiosk=k, seq=s, log=log) for k, s in sorted(seqs.items()) if k in shops],
                        owner=lambda r: shops[r.kiosk])


def publish_missing_projected(db) -> int:
    """On start: a ``projected`` row for every kiosk that has none yet (its batches were
    projected by a release before rows were published), so a kiosk counts them confirmed."""
    missing = chain.kiosks_without_feed(db, "projected")
    if not missing:
        return 0
    seqs = logstore.projected_seqs(db, missing)
    return publish_projected(db, {k: seqs.get(k, 0) for k in missing}, logstore.projected(db))
