"""One projector per county (issue 15): a batch names the counties it touches, each county's
projector folds its own batches in log order under its own lease, and a batch naming two
counties (a resident of another county served through the signed lookup) or every county
waits until each of them has projected what comes before it. Whatever order the counties
are projected in, and whichever leases are refused meanwhile, the ledger is the one fold of
the whole log (``reproject --check``). The real app and store (SQLite here; the same code
on PostgreSQL in tests/e2e/test_postgres_over_http.py)."""

import random
from contextlib import contextmanager

import pytest

from server.services import counties, projector
from schema.wire import Adjust
from server.services.central import append_central, next_central_ids
from server.services.staff import SYSTEM
from server.settings import Settings
from server.store import log as logstore
from tests.server.conftest import CARD_A, CARD_B
from tests.server.helpers import points

CARD_A2 = "5106810100002"  # SQ01 (county XQ01) beside CARD_A; CARD_B is of SQ02 (XQ02)


@pytest.fixture
def settings(server_dir, clock) -> Settings:
    """Acknowledging only: the tests project, a few events a chunk."""
    return Settings(data_dir=server_dir, clock=clock, projection="separate", projection_chunk_events=4)


@pytest.fixture
def two(ctx, enrolled):
    """Counties XQ01 (SQ01, SQ03: shop S01) and XQ02 (SQ02: shop S02), a kiosk at each shop."""
    counties.put_county(ctx, SYSTEM, "XQ01", "广汉市")
    counties.put_county(ctx, SYSTEM, "XQ02", "什邡市")
    for community, county in (("SQ01", "XQ01"), ("SQ03", "XQ01"), ("SQ02", "XQ02")):
        counties.set_community_county(ctx, SYSTEM, community, county)
    return enrolled(1, "S01"), enrolled(2, "S02")


def pushed(k, *events) -> int:
    """Push one batch of ``events``; its log position."""
    assert k.push(k.batch(*events)).status_code == 200
    with k.client.app.state.ctx.store.read() as db:
        return logstore.head(db)


def central(ctx, card: str, pts: int) -> int:
    """A central adjustment of ``card`` by ``pts``; its log position."""
    with ctx.store.write() as db:
        (eid, kseq), = next_central_ids(db, 1)
        append_central(ctx, db, [Adjust(id=eid, kseq=kseq, at=ctx.now(), staff="system", resident=card, points=pts, reason="补录")])
        return logstore.head(db)


def scope_of(ctx, pos: int):
    with ctx.store.read() as db:
        return logstore.counties_of(db, [pos])[pos]


def waiting(ctx) -> set[int]:
    with ctx.store.read() as db:
        return {r[0] for r in db.sql.execute("SELECT pos FROM ingest_log WHERE projected = 0")}


@contextmanager
def refusing(ctx, monkeypatch, *refused: str):
    """The store's projector lease refused for ``refused`` counties, as when another process
    holds them (SQLite grants every lease: one machine)."""
    real = ctx.store.projector_lease

    @contextmanager
    def lease(scope: str, wait: float = 0):
        if scope in {projector.lease_scope(c) for c in refused}:
            yield False
        else:
            with real(scope, wait) as held:
                yield held

    monkeypatch.setattr(ctx.store, "projector_lease", lease)
    try:
        yield
    finally:
        monkeypatch.setattr(ctx.store, "projector_lease", real)


def test_a_batch_names_the_counties_it_touches(ctx, two):
    a, b = two
    assert scope_of(ctx, pushed(a, a.award(CARD_A, "ZYFW", 10))) == {"XQ01"}
    assert scope_of(ctx, pushed(b, b.award(CARD_B, "ZYFW", 10, op="op2"))) == {"XQ02"}
    visitor = a.award(CARD_B, "ZYFW", 10)  # another county's resident, served at S01 through the signed lookup
    assert scope_of(ctx, pushed(a, visitor)) == {"XQ01", "XQ02"}
    projector.project_pending(ctx)
    assert scope_of(ctx, pushed(a, a.void(visitor.id))) == {"XQ01", "XQ02"}  # the void reaches its target's resident
    assert scope_of(ctx, central(ctx, CARD_A, 5)) is None  # a central batch: every county


def test_a_void_of_a_target_still_waiting_names_what_the_kiosk_waits_on(ctx, two):
    a, _ = two
    visitor = a.award(CARD_B, "ZYFW", 10)
    pushed(a, visitor)
    assert scope_of(ctx, pushed(a, a.void(visitor.id))) == {"XQ01", "XQ02"}


def test_a_county_stops_at_a_cross_county_batch_until_the_other_caught_up(ctx, two, monkeypatch):
    a, b = two
    own_a = pushed(a, a.award(CARD_A, "ZYFW", 10))
    own_b = pushed(b, b.award(CARD_B, "TJJF", 8, op="op2"))
    cross = pushed(a, a.redeem(CARD_B, ("SOAP", 1, 30)))  # CARD_B's leg is XQ02's, the shop's XQ01's
    after_a = pushed(a, a.award(CARD_A2, "ZYFW", 10))
    after_b = pushed(b, b.award(CARD_B, "ZYFW", 10, op="op2"))
    before = points(ctx, CARD_B)

    with refusing(ctx, monkeypatch, "XQ02"):  # XQ02's projector is elsewhere and busy
        projector.project_pending(ctx, wait=False)
    assert waiting(ctx) == {own_b, cross, after_a, after_b}  # XQ01 stopped at the batch it shares
    assert points(ctx, CARD_A) > 0 and points(ctx, CARD_B) == before

    with ctx.store.read() as db:
        head = logstore.head(db)
    assert projector._county(ctx, "XQ01", head, False) == 0  # both leases free, but XQ02 has not reached it
    assert waiting(ctx) == {own_b, cross, after_a, after_b}
    assert projector._county(ctx, "XQ02", head, False) == 3  # its own, the shared one (taking XQ01's lease), its own
    assert waiting(ctx) == {after_a}
    assert projector.project_pending(ctx) == 1 and not waiting(ctx)
    assert points(ctx, CARD_B) == before + 8 - 30 + 10
    with ctx.store.read() as db:
        assert logstore.projected(db) == logstore.head(db)
    assert projector.rebuild(ctx, ctx.settings.data_dir / "scratch.db").ok


def test_a_central_batch_waits_for_every_county(ctx, two, monkeypatch):
    a, b = two
    own_a = pushed(a, a.award(CARD_A, "ZYFW", 10))
    own_b = pushed(b, b.award(CARD_B, "ZYFW", 10, op="op2"))
    every = central(ctx, CARD_A, 5)  # separate projection: logged, not projected
    later_a = pushed(a, a.award(CARD_A, "ZYFW", 10))
    with refusing(ctx, monkeypatch, "XQ02"):
        projector.project_pending(ctx, wait=False)
    assert waiting(ctx) == {own_b, every, later_a}  # XQ01 cannot pass a batch every county shares
    with refusing(ctx, monkeypatch, "XQ01"):
        projector.project_pending(ctx, wait=False)
    assert waiting(ctx) == {every, later_a}  # XQ02 caught up, but XQ01's lease is held elsewhere
    assert projector.project_pending(ctx) == 2 and not waiting(ctx)
    assert projector.rebuild(ctx, ctx.settings.data_dir / "scratch.db").ok


def test_a_community_moving_county_makes_the_waiting_batches_touch_every_county(ctx, two):
    a, _ = two
    pos = pushed(a, a.award(CARD_A, "ZYFW", 10))
    assert scope_of(ctx, pos) == {"XQ01"}
    counties.set_community_county(ctx, SYSTEM, "SQ01", "XQ02")
    assert scope_of(ctx, pos) is None  # CARD_A's county changed before its batch was folded
    assert projector.project_pending(ctx) == 1
    assert projector.rebuild(ctx, ctx.settings.data_dir / "scratch.db").ok


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_of_county_rounds_gives_the_one_fold_of_the_log(ctx, two, monkeypatch, seed):
    """Batches of both kiosks — own residents, visitors of the other county, overdrafts,
    caps, voids of either, deliveries — with rounds of random counties between them, some
    with the other county's lease refused: at the end every batch is projected once and a
    rebuild in plain log order gives exactly the stored ledger (postings, balances, stock,
    counters, review items)."""
    rng = random.Random(seed)
    a, b = two
    cards = {a: [CARD_A, CARD_A2, CARD_B], b: [CARD_B, CARD_A]}
    ops = {a: "op1", b: "op2"}
    recorded = {a: [], b: []}
    for _ in range(40):
        k = rng.choice([a, b])
        card, op = rng.choice(cards[k]), ops[k]
        roll = rng.random()
        if roll < 0.4:
            ev = k.award(card, "ZYFW", 10, op=op)
        elif roll < 0.65:
            ev = k.redeem(card, ("SOAP", rng.randint(1, 3), 30), op=op)  # overdrafts and negative stock: reviewed
        elif roll < 0.75:
            ev = k.stock_in(("SOAP", 2), op=op)
        elif roll < 0.85 and recorded[k]:
            ev = k.void(rng.choice(recorded[k]), op="sup1" if k is a else "sup2")
        else:
            ev = k.award(card, "LLHZ", 5, op=op)
        recorded[k].append(ev.id)
        pushed(k, ev)
        if rng.random() < 0.3:
            refused = rng.choice([(), ("XQ01",), ("XQ02",)])
            with refusing(ctx, monkeypatch, *refused), ctx.store.read() as db:
                head = logstore.head(db)
            with refusing(ctx, monkeypatch, *refused):
                projector._county(ctx, rng.choice(["XQ01", "XQ02"]), head, False)
    projector.project_pending(ctx)
    assert not waiting(ctx)
    with ctx.store.read() as db:
        assert db.sql.execute("SELECT count(*) FROM events WHERE kiosk IN (?, ?)", [a.id, b.id]).fetchone()[0] == 40
    out = projector.rebuild(ctx, ctx.settings.data_dir / "scratch.db")
    assert out.ok, out.as_dict()
