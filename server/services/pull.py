"""Pull: a kiosk asks what changed since its cursor; the server answers with one page of
the feed it may see (global rows, its shop's, the residents and balances of the
communities its shop serves within its county, and its county's boards), the kiosk's revocation flag, the policy and a fresh offline lease.

The request is signed (domain ``pull``) and carries a nonce that the signed page echoes,
so an old page cannot be replayed to the kiosk. A revoked kiosk still gets a signed page,
saying so, with no changes and no lease: it must learn to stop.
"""

import msgspec

from schema.wire import Change, Lease, PullPage, PullRequest
from server.services.caller import authenticate, check_request_signature
from server.services.clock import note_clock_skew
from server.services.context import Context
from server.store import catalog, chain
from sync.protocol import (
    decode_request,
    MAX_PULL_LIMIT,
    PROTOCOL_VERSION,
    RequestRejected,
)


def pull(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes, address: str | None = None) -> PullPage:
    # One read snapshot for the kiosk's row (authenticate), the feed's head (check_window) and
    # the page: their reads nest in it (``Store.read``). The head and the page agree, and the
    # page is a gap-free prefix of the feed: every row it holds is committed, and the feed's
    # writers write alone. The bookkeeping is written after it, apart (see below).
    with ctx.store.read() as db:
        kiosk, _ = authenticate(ctx, kiosk_id, signature, body, address, lambda k: check_request_signature(ctx, k, "pull", body, signature))
        req = parse_pull(body, kiosk["id"])
        check_window(ctx, req)
        limit = req.limit
        now = ctx.now()
        revoked = kiosk["status"] == "revoked"
        rows = []
        if not revoked:
            served = catalog.served_communities(db, kiosk["shop"])  # within the shop's county
            # One row more than asked for tells us whether there is more without a count.
            rows = catalog.changes_since(db, req.cursor, kiosk["shop"], limit + 1, served, catalog.county_of_shop(db, kiosk["shop"]))
    skew = req.clock - now
    skewed = abs(skew) > ctx.settings.clock_skew_threshold_ms

    def record(db) -> None:
        chain.record_pull(db, kiosk["id"], now, skew)
        if skewed:
            note_clock_skew(ctx, db, kiosk, skew, now)

    # the bookkeeping is the kiosk's own rows (group commit with concurrent pushes and pulls),
    # written only when due (recorded moments ago: chain.RECORD_PULL_EVERY_MS) or the clock is
    # off, in a keyed write of its own after the snapshot
    if skewed or chain.pull_record_due(kiosk, now):
        ctx.store.write_keyed(kiosk["id"], record)
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [Change(kind=k, key=key, seq=seq, data=None if data is None else msgspec.Raw(data)) for k, key, seq, data in rows]
    policy = ctx.settings.policy()
    return PullPage(
        v=PROTOCOL_VERSION,
        kiosk=kiosk["id"],
        nonce=req.nonce,
        cursor=req.cursor,
        next=changes[-1].seq if changes else req.cursor,
        more=more,
        server_time=now,
        revoked=revoked,
        policy=policy,
        lease=None if revoked else Lease(kiosk=kiosk["id"], issued=now, seconds=policy.lease_seconds),
        changes=changes,
    )


def check_window(ctx: Context, req: PullRequest) -> None:
    """A ``limit`` outside 1-MAX_PULL_LIMIT and a cursor below 0 or beyond the feed's head
    are refused, not clamped (docs/PROTOCOL.md § 4.3): a page answering another question
    than the one asked would hand the kiosk a ``next`` it never earned. The head only
    grows, so a cursor read as within it stays within it."""
    if not 1 <= req.limit <= MAX_PULL_LIMIT:
        raise RequestRejected("malformed_request", f"pull limit must be 1-{MAX_PULL_LIMIT}, not {req.limit}", limit=req.limit)
    if req.cursor < 0:
        raise RequestRejected("malformed_request", f"pull cursor must be 0 or more, not {req.cursor}", cursor=req.cursor)
    with ctx.store.read() as db:
        head = catalog.feed_high_water(db)
    if req.cursor > head:
        raise RequestRejected("cursor_ahead", f"pull cursor {req.cursor} is beyond the feed's head {head}", cursor=req.cursor, head=head)


def parse_pull(body: bytes, kiosk_id: str) -> PullRequest:
    return decode_request(body, PullRequest, kiosk_id, "pull request")
