"""The projector: the ledger derived from the acknowledged log, behind the acknowledgement.

A push is acknowledged once its batch is in the log (``server.services.push``); the
projector reads the log in order from its cursor, a chunk of whole batches at a time (about
``settings.projection_chunk_events`` events), reads the state the chunk touches, folds it
with ``sync.projection.fold`` and writes the rows set-based — events, postings and balance
deltas, stock, cap counters, voids, review items, the balance and stock feed rows, and the
residents' letters and counted ratings (``server.services.voice.receive``), the volunteer task
claims and completions that count (``server.services.tasks.receive``) — with its
cursor moved in the same transaction, so a crash replays nothing twice and loses
nothing. ``settings.projection``: ``inline`` (the default) projects right after each
acknowledgement, before the reply; ``background`` leaves it to a thread (``Background``)
woken by every acknowledgement; ``separate`` to another process, ``jifen-server project``
(``follow``). With each chunk the projector publishes a ``projected`` feed row per kiosk
whose batches it holds (``server.services.feed.publish_projected``): what a kiosk counts
as confirmed (docs/PROTOCOL.md § 4.8). Two processes projecting one database (a
``project`` process, an ``inline`` staff action projecting its central batch) are kept apart by the
writer (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock) and the cursor check of
``project_pending``. The same fold rebuilds the ledger into a scratch copy
(``reproject``) and compares it with the stored one — on PostgreSQL both read from one
snapshot of the database copied into SQLite (``server.store.snapshot``).

Residents' voice in a rebuild: ``voice_items`` and ``voice_steps`` are staff state (status,
assignee, replies, the handling log), kept as stored and not written again. Whether a kiosk
rating counts depends on the item's handling status when the rating was projected — staff
state, not in the log — so the ``voice_rating_refused`` review items are not compared
either; what a letter's item holds of its signed event (code, event, channel, category,
resident, kiosk, words, times) is compared with the rebuilt events (``VOICE_FROM_EVENTS``).
"""

import contextlib
import itertools
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from schema.types import CENTRAL_KIOSK
from schema.wire import StockRec
from server.errors import Invalid
from server.services import feed, tasks, voice
from server.store import Tx, catalog, chain, ledger, open_store, snapshot
from server.store import log as logstore
from sync import codec, kinds
from sync.crashpoint import crash_point
from sync.ledger import View
from sync.projection import RESIDENT_PREFIX, Logged, Rows, fold, needs, with_targets

log = logging.getLogger("jifen.server.projector")

#: batches read from the log per query while a chunk fills
READ_BATCHES = 64


def read_chunk(db: Tx, after: int, max_events: int, county: str | None = None, upto: int = 0) -> list[Logged]:
    """Whole batches not yet projected after position ``after``, in log order, until about
    ``max_events`` events: of the whole log, or (``county``) of that county's scope up to
    position ``upto``."""
    out: list[Logged] = []
    n = 0
    while n < max_events:
        start = out[-1].pos if out else after
        rows = (logstore.logged_after(db, start, READ_BATCHES) if county is None
                else logstore.scope_after(db, county, start, upto, READ_BATCHES))
        for pos, kiosk, seq, at, body, shop in rows:
            type_ = kinds.central_batch_type() if kiosk == CENTRAL_KIOSK else kinds.batch_type()
            events = tuple(codec.decode(bytes(body), type_).events)
            out.append(Logged(pos, kiosk, shop, seq, at, events))
            n += len(events)
            if n >= max_events:
                break
        if len(rows) < READ_BATCHES:
            break
    return out


def view_for(db: Tx, batches: list[Logged]) -> View:
    """The state ``batches`` touch, as values."""
    n = needs(batches)
    targets = ledger.void_targets(db, n.refs.targets) if n.refs.targets else {}
    n = with_targets(n, targets)
    return View(
        residents=catalog.resident_statuses(db, n.refs.cards),
        rules=catalog.rule_infos(db, n.refs.rules),
        goods=catalog.good_infos(db, n.refs.skus),
        balances=ledger.balances_of(db, n.accounts),
        stock=ledger.stock_of(db, n.stock),
        targets=targets,
        counts=ledger.award_counts_of(db, n.refs.counts),
        operators=catalog.operator_infos(db, n.refs.operators),
        voices=voice.view_of(db, n.refs.voices),
        tasks=tasks.view_of(db, n.refs.tasks),
        homes=tasks.homes_of(db, n.refs.cards) if n.refs.tasks else {},
    )


class Raced(Exception):
    """A folded chunk that must not be written: a batch of it was projected meanwhile, or
    one it must follow was not (``write`` rolls the transaction back)."""


def write(db: Tx, rows: Rows, positions: list[int], voices: bool = True, scope: set[str] | None = None) -> None:
    """The rows of a folded chunk (the batches at ``positions``), marked projected, in the
    caller's transaction; ``voices``: the letters and counted ratings too (not in a rebuild:
    they are kept). ``scope``: the counties the chunk touches (None: every county); raises
    ``Raced`` if a batch of the chunk is already projected or a batch of its scope before it
    is not."""
    if logstore.mark_projected(db, positions) != len(positions) or logstore.waiting_below(db, positions[-1], scope):
        raise Raced()
    ledger.insert_events(db, rows.events)
    ledger.insert_posting_rows(db, rows.postings, rows.balance_deltas)
    crash_point("server.apply.after_postings")
    ledger.insert_stock_move_rows(db, rows.stock_moves, rows.stock_deltas)
    ledger.set_award_counts(db, rows.counts)
    ledger.mark_voided_many(db, rows.voids)
    ledger.insert_reviews(db, rows.reviews)
    if voices:
        for v in rows.voice:
            voice.receive(db, list(v.events), v.ratings, v.kiosk, v.shop, v.at)
    tasks.receive(db, rows)
    for kind, recs in rows.feed():
        if kind == "balance":
            feed.publish_balances(db, {r.card: r.points for r in recs})
        else:
            feed.publish_many(db, kind, recs)
    feed.publish_projected(db, {kiosk: seq for kiosk, seq in rows.batches if kiosk != CENTRAL_KIOSK}, logstore.projected(db))
    chain.set_batches_feed(db, rows.batches, catalog.feed_high_water(db))
    crash_point("server.project.before_commit")


def project_chunk(db: Tx, max_events: int, voices: bool = True) -> int:
    """Project the next chunk of the log inside the caller's transaction; events projected."""
    batches = read_chunk(db, 0, max_events)
    if not batches:
        return 0
    rows = fold(batches, view_for(db, batches))
    write(db, rows, [b.pos for b in batches], voices)
    return len(rows.events)


def catch_up_in(db: Tx, max_events: int, voices: bool = True) -> int:
    """Project everything logged, inside the caller's transaction (a central batch is
    appended and projected in its staff action's own transaction)."""
    total = 0
    while n := project_chunk(db, max_events, voices):
        total += n
    return total


def lag(ctx) -> tuple[int, int]:
    """(log head, projector cursor)."""
    with ctx.store.read() as db:
        return logstore.head(db), logstore.projected(db)


#: the most events a chunk holds while pushes wait for the writer, so that their
#: acknowledgement is not queued behind a long projection write
BUSY_CHUNK_EVENTS = 500

def lease_scope(county: str) -> str:
    """The projector lease of ``county`` (``Store.projector_lease``)."""
    return f"county:{county}"


#: how long an inline projection waits for another process's projecting round to end
#: (it then finds its batches projected); past it the reply carries the acknowledgement's feed
LEASE_WAIT = 10.0


def project_pending(ctx, wait: bool = True) -> int:
    """Project what is logged and not yet projected, one county at a time; events projected.

    Each county's batches (``server.services.scopes``: those naming it) are folded in log
    order by the one process holding that county's projector lease (on PostgreSQL an
    advisory lock its process holds for the round, released by PostgreSQL if the process
    dies; other processes skip the county meanwhile and take it over once it is free). A
    batch naming other counties too — a resident of another county served through the
    signed lookup, a central batch (every county) — is projected by whichever of its
    counties' projectors reaches it once every one of them has projected all of its batches
    before it, holding all their leases (``_county``). So each county's state moves exactly
    as one fold of the whole log in log order would move it.

    A chunk is read and folded in a snapshot, outside the writer lock, and only its rows are
    written under it, after checking that none of its batches was projected meanwhile and
    that none of its scope before it is still waiting (``write``: a push that committed
    after the read, on PostgreSQL where pushes of different kiosks commit at once; a
    central batch projected in its staff action): then the chunk is read again. While pushes
    wait for the writer a chunk holds at most ``BUSY_CHUNK_EVENTS``. One thread of a process
    projects at a time (``ctx.projecting``). Without a county's lease a call projects nothing
    of it: with ``wait`` (inline) it first waits up to ``LEASE_WAIT`` for the holder's round,
    which projects its batches too. A call projects up to the log's head as it was when
    called, so a caller under a steady stream of pushes returns."""
    total = 0
    with ctx.projecting:
        with ctx.store.read() as db:
            head = logstore.head(db)
        while counties := _pending(ctx):
            moved = 0
            for county in counties:
                moved += _county(ctx, county, head, wait)
            total += moved
            if not moved:
                break
    return total


def _pending(ctx) -> list[str]:
    """The counties with batches waiting (every county when a batch naming none waits)."""
    with ctx.store.read() as db:
        named, every = logstore.pending_counties(db)
        return catalog.county_ids(db) if every else named


def _county(ctx, county: str, head: int, wait: bool) -> int:
    """Project ``county``'s waiting batches up to ``head`` under its lease; events projected.
    Stops at a batch naming other counties whose leases another process holds, or that
    another county must first catch up to (its own projector then projects it)."""
    total = 0
    with ctx.store.projector_lease(lease_scope(county), LEASE_WAIT if wait else 0) as held:
        while held:
            size = ctx.settings.projection_chunk_events
            if ctx.store.writers_waiting():
                size = min(size, BUSY_CHUNK_EVENTS)
            with ctx.store.read() as db:
                batches = read_chunk(db, 0, size, county, head)
                scopes = logstore.counties_of(db, [b.pos for b in batches])
                own = frozenset({county})
                run = [b for b in itertools.takewhile(lambda b: scopes[b.pos] == own, batches)]
                view = view_for(db, run) if run else None
                every = catalog.county_ids(db) if batches and scopes[batches[0].pos] is None else None
            if not batches:
                return total
            if run:
                n = _write_folded(ctx, run, view, {county})
            else:
                n = _shared(ctx, county, batches[0], scopes[batches[0].pos], every)
                if n is None:
                    return total  # another county's batches before it wait, or its projector is busy
            total += n
    return total


def _shared(ctx, county: str, batch: Logged, scope: frozenset[str] | None, every: list[str] | None) -> int | None:
    """Project ``batch``, which names counties beside ``county`` (``scope``; None: every
    county, listed in ``every``), holding every one of their leases (taken without
    waiting, so two projectors never wait on each other) once each has projected its
    batches before it; None when it cannot be yet."""
    others = sorted(set(every if scope is None else scope) - {county})
    with contextlib.ExitStack() as leases:
        for other in others:
            if not leases.enter_context(ctx.store.projector_lease(lease_scope(other), 0)):
                return None
        with ctx.store.read() as db:
            if logstore.waiting_below(db, batch.pos, None if scope is None else set(scope)) != 1:
                return None  # a batch before it of one of its counties waits (or it was projected meanwhile)
            view = view_for(db, [batch])
        return _write_folded(ctx, [batch], view, None if scope is None else set(scope))


def _write_folded(ctx, batches: list[Logged], view: View, scope: set[str] | None) -> int:
    rows = fold(batches, view)
    try:
        with ctx.store.write() as db:
            write(db, rows, [b.pos for b in batches], scope=scope)
    except Raced:
        return 0
    return len(rows.events)


class Background(threading.Thread):
    """``settings.projection = background``: projects behind the acknowledgements, woken by
    each (``poke``) and every ``interval`` seconds; a failed round is logged and retried. A
    round another process holds the lease for is skipped, so when that process dies this
    one takes over within ``interval``."""

    def __init__(self, ctx, interval: float = 0.5):
        super().__init__(name="projector", daemon=True)
        self.ctx = ctx
        self.interval = interval
        self._wake = threading.Event()
        self._halt = threading.Event()

    def poke(self) -> None:
        self._wake.set()

    def run(self) -> None:
        follow(self.ctx, self._halt, self.interval, self._wake)

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        self.join(10)


def after_ack(ctx) -> None:
    """What an acknowledgement does next: project now (``inline``), wake the background, or
    nothing (``separate``: a ``jifen-server project`` process finds the batch)."""
    if ctx.projector is not None:
        ctx.projector.poke()
    elif ctx.settings.projection == "inline":
        project_pending(ctx)


def follow(ctx, halt: threading.Event, interval: float, wake: threading.Event | None = None) -> None:
    """Project behind the acknowledgements until ``halt`` is set: whatever is logged, then
    wait ``interval`` seconds (or until ``wake``); a failed round is logged and retried, and
    a round another process holds the projector lease for is skipped. The loop of the
    background thread and of ``jifen-server project``."""
    wake = wake or threading.Event()
    while not halt.is_set():
        try:
            project_pending(ctx, wait=False)  # another process's round: skipped, tried again
        except Exception:  # noqa: BLE001 - kept running; the log keeps every batch
            log.exception("projection failed; retrying")
            halt.wait(1.0)
        wake.wait(interval)
        wake.clear()


# ---------------------------------------------------------------- rebuilding from the log


@dataclass
class Rebuild:
    """The outcome of a rebuild: events projected, and the differences from what is stored
    (``table``, ``row`` (stored row or None), ``rebuilt`` row or None), the first few only."""

    events: int = 0
    differences: list[dict] = field(default_factory=list)
    counted: int = 0

    @property
    def ok(self) -> bool:
        return not self.counted

    def as_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "differences": self.counted, "first": self.differences}


#: differences listed in full; the rest are only counted
LISTED = 20

def rebuild(ctx, scratch: Path, replace: bool = False) -> Rebuild:
    """Fold the whole log into ``scratch`` (a SQLite copy of the database with the projection
    emptied) and compare every projected table with the stored one; with ``replace``, the
    stored ledger tables then take the rebuilt rows (review items are kept: staff act on
    them by id).

    On SQLite the copy is the online backup of server.db, compared with the live database.
    On PostgreSQL the database is first read in one snapshot into a SQLite copy beside
    ``scratch`` (``server.store.snapshot.sqlite_copy``): the stored state to compare, and
    what the scratch copy is made from, so the same fold and the same comparison run on
    both backends. Replacing the ledger is refused there, by name."""
    if replace and ctx.store.dialect != "sqlite":
        raise Invalid(REPLACE_REFUSED, database=ctx.store.dialect)
    out = Rebuild()
    stored_path = scratch.with_name(f"{scratch.stem}-stored{scratch.suffix}")
    stored = store = None
    try:
        if ctx.store.dialect == "sqlite":
            source, stored = ctx.settings.db_path, ctx.store
        else:
            snapshot.sqlite_copy(ctx.store, stored_path)
            source, stored = stored_path, open_store(stored_path)
        store = logstore.scratch_copy(source, scratch)
        with store.write() as db:
            out.events = catch_up_in(db, ctx.settings.projection_chunk_events, voices=False)
        with stored.read() as live, store.read() as rebuilt:
            if logstore.projected(live) != logstore.head(live):
                _differ(out, "ingest_log", (logstore.projected(live),), (logstore.head(live),),
                        "the stored ledger is behind the log (projection running): compare again once it caught up")
            for table in logstore.LEDGER_TABLES:
                _compare(out, table, logstore.ledger_rows(live, table), logstore.ledger_rows(rebuilt, table))
            _compare(out, "voice_items", logstore.voice_items(live), logstore.voice_from_events(rebuilt))
        if replace:
            with ctx.store.write() as db, store.read() as rebuilt:
                logstore.replace_ledger(db, rebuilt)
                feed.publish_balances(db, {a[len(RESIDENT_PREFIX):]: p for a, p in ledger.balance_cache(db).items()
                                           if a.startswith(RESIDENT_PREFIX)})
                feed.publish_many(db, "stock", [StockRec(shop=s, sku=k, qty=q) for (s, k), q in sorted(ledger.stock_cache(db).items())])
                tasks.publish(db, logstore.task_ids(db))
                logstore.set_all_batches_feed(db, catalog.feed_high_water(db))
    finally:
        if store is not None:
            store.close()
        if stored is not None and stored is not ctx.store:
            stored.close()
        for p in [*scratch.parent.glob(scratch.name + "*"), *scratch.parent.glob(stored_path.name + "*")]:
            p.unlink()
    return out


#: why ``reproject`` without ``--check`` refuses on PostgreSQL
REPLACE_REFUSED = ("reproject without --check replaces the stored ledger tables, which is supported on SQLite only; on"
                   " PostgreSQL run `jifen-server reproject --check` (it rebuilds the ledger from the signed log in a SQLite"
                   " copy of one snapshot and names every difference); to repair a difference there, restore a backup from"
                   " before it (`jifen-server restore FILE`, the server stopped: kiosks resend what the backup lacks)")


def _compare(out: Rebuild, table: str, stored, rebuilt) -> None:
    strip = (lambda r: r[1:]) if table in logstore.SURROGATE else (lambda r: r)
    stored, rebuilt = iter(stored), iter(rebuilt)
    while True:
        a, b = next(stored, None), next(rebuilt, None)
        if a is None and b is None:
            return
        if a is None or b is None or strip(a) != strip(b):
            _differ(out, table, a, b)


def _differ(out: Rebuild, table: str, stored, rebuilt, note: str = "") -> None:
    out.counted += 1
    if len(out.differences) < LISTED:
        show = lambda r: None if r is None else [bytes(v).hex()[:16] + "…" if isinstance(v, bytes | memoryview) else v for v in r]  # noqa: E731
        out.differences.append({"table": table, "stored": show(stored), "rebuilt": show(rebuilt)} | ({"note": note} if note else {}))
