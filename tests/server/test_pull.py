"""Pull: signed pages of the feed from a cursor, scoped to the kiosk's shop, with policy,
lease and revocation on every page."""

import threading
from contextlib import contextmanager

import msgspec

from schema.feeds import FEEDS
from schema.wire import PullPage
from server.services.manage import revoke_kiosk
from server.services.staff import SYSTEM
from server.store import catalog, chain
from sync import codec
from tests.server.conftest import CARD_A
from tests.server.helpers import error_code, reply_of, table_count
from tests.server.kiosk_double import verified


def page(resp, ctx) -> PullPage:
    assert resp.status_code == 200, resp.text
    return codec.decode(verified(resp, ctx.key.public_hex), PullPage)


def pull_all(kiosk, ctx, limit: int) -> list:
    changes, cursor, pages = [], 0, 0
    while True:
        p = page(kiosk.pull(cursor=cursor, limit=limit), ctx)
        changes += p.changes
        cursor, pages = p.next, pages + 1
        if not p.more:
            return changes, pages


def test_paging_returns_every_visible_row_once_in_order(kiosk, ctx):
    everything, pages = pull_all(kiosk, ctx, limit=25)
    assert pages > 2
    seqs = [c.seq for c in everything]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert len(everything) == table_count(ctx, "feed", "scope IN ('', 'S01', 'community:SQ01')")  # S01 serves SQ01
    kinds = {c.kind for c in everything}
    assert {"resident", "rule", "good", "shop", "community", "operator", "stock", "balance"} <= kinds
    for c in everything:
        codec.decode(bytes(c.data), FEEDS[c.kind].record)  # every record decodes as its type


def test_other_communities_residents_and_balances_are_not_sent(kiosk, ctx):
    changes, _ = pull_all(kiosk, ctx, limit=1000)
    residents = [msgspec.json.decode(bytes(c.data)) for c in changes if c.kind == "resident"]
    assert residents and {r["community"] for r in residents} == {"SQ01"}
    cards = {r["card"] for r in residents}
    assert {c.key for c in changes if c.kind == "balance"} <= cards


def test_other_shops_stock_and_operators_are_not_sent(kiosk, ctx):
    changes, _ = pull_all(kiosk, ctx, limit=1000)
    scoped = [c for c in changes if c.kind in ("stock", "operator")]
    assert scoped and all(msgspec.json.decode(bytes(c.data))["shop"] == "S01" for c in scoped)


def test_residents_carry_only_the_phone_tail(kiosk, ctx):
    changes, _ = pull_all(kiosk, ctx, limit=1000)
    resident = next(msgspec.json.decode(bytes(c.data)) for c in changes if c.kind == "resident")
    assert len(resident["phone_tail"]) == 4 and "phone" not in resident


def test_a_change_moves_the_row_past_the_cursor(kiosk, ctx):
    changes, _ = pull_all(kiosk, ctx, limit=1000)
    cursor = changes[-1].seq
    assert page(kiosk.pull(cursor=cursor), ctx).changes == []
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    fresh = page(kiosk.pull(cursor=cursor), ctx)
    # the balance moved, and after it the kiosk's projected row confirming its batch (PROTOCOL § 4.8)
    assert [(c.kind, c.key) for c in fresh.changes] == [("balance", CARD_A), ("projected", kiosk.id)]


def test_page_echoes_nonce_and_carries_policy_and_lease(kiosk, ctx, settings, clock):
    p = page(kiosk.pull(nonce="ab" * 16), ctx)
    assert p.nonce == "ab" * 16 and p.revoked is False
    assert p.policy == settings.policy()
    assert (p.lease.kiosk, p.lease.issued, p.lease.seconds) == (kiosk.id, clock.now, settings.lease_seconds)


def test_a_limit_out_of_range_is_refused_not_clamped(kiosk, ctx):
    for limit in (0, -1, 5001, 10**9):
        resp = kiosk.pull(limit=limit)
        assert (resp.status_code, error_code(resp, ctx)) == (400, "malformed_request"), limit
        assert "limit" in resp.json()["error"]["message"]
    assert page(kiosk.pull(limit=5000), ctx).changes


def test_a_cursor_beyond_the_feed_head_is_refused(kiosk, ctx):
    """It was answered 200 with ``next`` set to the bogus cursor, so a kiosk that stored it
    would skip every row published until the feed caught up."""
    with ctx.store.read() as db:
        head = catalog.feed_high_water(db)
    resp = kiosk.pull(cursor=head + 1000)
    assert (resp.status_code, error_code(resp, ctx)) == (409, "cursor_ahead")
    assert resp.json()["error"]["detail"] == {"cursor": head + 1000, "head": head}
    assert page(kiosk.pull(cursor=head), ctx).next == head  # the head itself is a fine cursor


def test_revoked_kiosk_gets_a_signed_page_saying_so(kiosk, ctx):
    revoke_kiosk(ctx, SYSTEM, kiosk.id)
    p = page(kiosk.pull(), ctx)
    assert (p.revoked, p.lease, p.changes) == (True, None, [])


def test_pull_signature_is_checked(kiosk, client, ctx):
    resp = client.post("/v1/pull", content=b"{}", headers={"Jifen-Kiosk": kiosk.id, "Jifen-Signature": "00" * 64})
    assert resp.status_code == 401 and error_code(resp, ctx) == "bad_signature"


def test_pull_with_a_wrong_clock_is_reviewed_and_recorded(kiosk, ctx, clock):
    page(kiosk.pull(clock=clock.now - 2 * 3_600_000), ctx)
    with ctx.store.read() as db:
        row = chain.kiosk_by_id(db, kiosk.id)
    skew, last = row["clock_skew_ms"], row["last_pull_at"]
    assert (skew, last) == (-2 * 3_600_000, clock.now)
    assert table_count(ctx, "review_items", "kind = 'clock_skew'") == 1


def test_response_signature_breaks_if_a_byte_changes(kiosk, ctx):
    resp = kiosk.pull()
    reply_of(resp, ctx)
    from sync.signing import BadSignature, VerifyKey

    tampered = resp.content.replace(b'"revoked":false', b'"revoked":true ')
    try:
        VerifyKey(ctx.key.public_hex).verify("response", tampered, resp.headers["Jifen-Signature"])
    except BadSignature:
        return
    raise AssertionError("a tampered page verified")


def recorded_pull(ctx, kiosk) -> tuple[int | None, int | None]:
    with ctx.store.read() as db:
        row = chain.kiosk_by_id(db, kiosk.id)
    return row["last_pull_at"], row["clock_skew_ms"]


def test_a_pull_is_recorded_at_most_every_interval(kiosk, ctx, clock):
    page(kiosk.pull(), ctx)
    first = clock.now
    clock.advance(chain.RECORD_PULL_EVERY_MS - 1)
    p = page(kiosk.pull(clock=clock.now - 500), ctx)  # answered in full, not written down
    assert p.server_time == clock.now and p.lease.issued == clock.now
    assert recorded_pull(ctx, kiosk) == (first, 0)
    clock.advance(1)
    page(kiosk.pull(clock=clock.now - 500), ctx)
    assert recorded_pull(ctx, kiosk) == (clock.now, -500)


def test_a_pull_within_the_interval_sees_what_was_committed_since(kiosk, ctx, clock):
    p = page(kiosk.pull(limit=1000), ctx)
    clock.advance(1_000)
    rule = FEEDS["rule"].record(code="NEW1", name="助老", kind="encouraged", points=5, cap_day=None, cap_month=None,
                                status="active")
    with ctx.store.write() as db:
        catalog.put_feed(db, "rule", "NEW1", "", codec.encode(rule))
    again = page(kiosk.pull(cursor=p.next, limit=1000), ctx)  # not recorded: read from what is committed
    assert [(c.kind, c.key) for c in again.changes] == [("rule", "NEW1")]


def test_a_pull_with_a_wrong_clock_is_recorded_every_time(kiosk, ctx, clock):
    page(kiosk.pull(clock=clock.now - 2 * 3_600_000), ctx)
    clock.advance(1_000)
    page(kiosk.pull(clock=clock.now - 3 * 3_600_000), ctx)
    assert recorded_pull(ctx, kiosk) == (clock.now, -3 * 3_600_000)
    assert table_count(ctx, "review_items", "kind = 'clock_skew'") == 1  # one a day


def snapshots_taken(ctx, monkeypatch) -> list[int]:
    """Count the outermost ``ctx.store.read()`` calls from now on (nested ones share their snapshot)."""
    taken, depth, real = [0], threading.local(), ctx.store.read

    @contextmanager
    def counting():
        outer = not getattr(depth, "n", 0)
        taken[0] += outer
        depth.n = getattr(depth, "n", 0) + 1
        try:
            with real() as db:
                yield db
        finally:
            depth.n -= 1

    monkeypatch.setattr(ctx.store, "read", counting)
    return taken


def test_a_pull_reads_the_kiosk_the_head_and_the_page_from_one_snapshot(kiosk, ctx, clock, monkeypatch):
    taken = snapshots_taken(ctx, monkeypatch)
    p = page(kiosk.pull(limit=1000), ctx)
    assert p.changes and taken[0] == 1
    assert recorded_pull(ctx, kiosk) == (clock.now, 0)  # the record, due, written after it
    taken[0] = 0
    clock.advance(chain.RECORD_PULL_EVERY_MS)
    ahead = kiosk.pull(cursor=p.next + 1)  # the head read in the same snapshot refuses it
    assert error_code(ahead, ctx) == "cursor_ahead" and taken[0] == 1
    assert recorded_pull(ctx, kiosk)[0] == clock.now - chain.RECORD_PULL_EVERY_MS  # refused: not recorded


def test_a_pull_refused_inside_the_snapshot_is_still_counted(kiosk, client, ctx):
    resp = client.post("/v1/pull", content=b"{}", headers={"Jifen-Kiosk": kiosk.id, "Jifen-Signature": "00" * 64})
    assert error_code(resp, ctx) == "bad_signature"
    with ctx.store.read() as db:
        (count,) = db.sql.execute("SELECT count FROM unstored_rejections WHERE kiosk = ? AND code = 'bad_signature'",
                                  [kiosk.id]).fetchone()
    assert count == 1
