"""The kiosk database: the only module that opens it.

WAL with ``synchronous=FULL``, so a commit that returned is on disk: the kiosk tells the
operator "recorded" only after that. One connection guarded by one lock serves the app's
threads; every write is one ``BEGIN IMMEDIATE`` transaction, and the service composes
"check then append" inside one of them so a check can never go stale before its write.
Functions are named for their query.

SQLite's refusals (disk full, read-only, locked, corrupt, I/O) leave as ``kiosk.errors``'
``StorageFailed`` family in the operator's words; the transaction was rolled back whole, and
SQLite's own text goes to the log.
"""

import json
import errno
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database

from kiosk.errors import (DatabaseDamaged, DatabaseLocked, DiskFull, DiskReadOnly, SchemaTooNew,
                          StorageFailed)
from sync.initials import initials, is_initials
from schema import kiosk_db
from schema.feeds import FEEDS
from schema.types import GENESIS
from schema.wire import KioskEvent
from sync import codec, kinds, passwords
from sync.chunks import marks
from sync.crashpoint import crash_point
from kiosk.files import private_file, private_folder

log = logging.getLogger(__name__)

#: a ``transaction(durable=False)`` this long after the last durable commit is durable
#: itself: a power cut then loses at most this long of a sync round's bookkeeping
LAZY_SECONDS = 60.0

def _refusal(name: str) -> StorageFailed | None:
    """The kiosk's words for SQLite's result code ``name`` (``SQLITE_READONLY_DBMOVED``:
    its primary code decides), or None for what is not the disk's or the file's fault."""
    match "_".join(name.split("_")[:2]):
        case "SQLITE_FULL":
            return DiskFull()
        case "SQLITE_READONLY":
            return DiskReadOnly()
        case "SQLITE_BUSY" | "SQLITE_LOCKED":
            return DatabaseLocked()
        case "SQLITE_CORRUPT" | "SQLITE_NOTADB":
            return DatabaseDamaged()
        case "SQLITE_IOERR" | "SQLITE_CANTOPEN":
            return StorageFailed()
    return None


@contextmanager
def refusals() -> Iterator[None]:
    """Turn SQLite's disk and file refusals into ``StorageFailed`` and its kinds; anything
    else (a constraint, a bug) passes unchanged."""
    try:
        yield
    except sqlite3.Error as exc:
        name = getattr(exc, "sqlite_errorname", None) or ""
        refusal = _refusal(name)
        if refusal is None:
            raise
        log.warning("database refused (%s): %s", name, exc)
        raise refusal from None


def _connect(path: Path, timeout: float, max_pages: int | None, read_only: bool = False) -> sqlite3.Connection:
    with refusals():
        if read_only:
            try:  # immutable only if SQLite cannot even read the WAL it would need
                conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error:
                conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True,
                                       check_same_thread=False)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=timeout)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            # 16 MiB of page cache (SQLite's default is 2 MiB): a first sync writes 500,000
            # residents through four indexes, and with the default most index pages were
            # re-read on every page of the pull (first sync at 500,000: ~25 s -> ~20 s with
            # 64 MiB). 64 MiB held the kiosk at 140 MB RSS in that sync against a 100 MB
            # target; 16 MiB gave 85 MB for 9% more CPU (22.6 s against 20.8 s, one run each)
            conn.execute("PRAGMA cache_size=-16384")
            if max_pages:
                conn.execute(f"PRAGMA max_page_count={int(max_pages)}")
        except BaseException:
            conn.close()
            raise
        return conn


def _meta_text(value) -> str | None:
    """A meta value as stored: bools as 1/0, None as NULL, anything else as its text."""
    if isinstance(value, bool):
        value = int(value)
    return None if value is None else str(value)


class Store:
    def __init__(self, path: Path, pin_pepper: bytes | None = None, *, timeout: float = 30.0,
                 max_pages: int | None = None):
        """``pin_pepper``: mixed into every mirrored operator PIN hash (``sync.passwords.pepper``;
        None: kept as sent); ``timeout``: seconds a write waits for another program's lock
        before ``DatabaseLocked``; ``max_pages``: the most pages the file may grow to
        (SQLite's ``max_page_count``), for a kiosk whose disk is shared."""
        self.pin_pepper = pin_pepper
        try:
            private_folder(path.parent)
        except OSError as exc:
            log.warning("data folder refused: %r", exc)
            if not path.parent.is_dir():  # a folder that is there on a read-only disk still reads
                raise (DiskFull() if exc.errno == errno.ENOSPC else DiskReadOnly()) from None
        self.read_only = False
        try:
            conn = _connect(path, timeout, max_pages)
            try:
                private_file(path)  # SQLite gives its -wal and -shm files the database's mode
            except OSError as exc:
                log.warning("database file mode not set: %r", exc)
        except StorageFailed:
            if not path.exists() or os.access(path.parent, os.W_OK):
                raise
            # a read-only disk: open for reading, so status and balances still answer
            # (every write is then refused as DiskReadOnly)
            conn = _connect(path, timeout, max_pages, read_only=True)
            self.read_only = True
        # migration 4 fills the initials of residents mirrored before it
        conn.create_function(kiosk_db.INITIALS_FUNCTION, 1, initials, deterministic=True)
        self.db = Database(conn, execute_plugins=False)
        self._lock = threading.RLock()
        self._depth = 0
        self._synced_at = float("-inf")  # the last durable commit (time.monotonic)
        try:
            self._migrate()
            if pin_pepper is not None and not self.read_only:
                try:
                    self._pepper_operators()
                except (DatabaseLocked, DiskFull):  # done on the next open; reads still answer now
                    log.warning("operators' PIN hashes not peppered yet: database busy or full")
        except BaseException:
            conn.close()
            raise

    def _pepper_operators(self) -> None:
        """Pepper the PIN hashes mirrored before the kiosk had a pepper."""
        rows = self.db.conn.execute("SELECT id, pin_hash FROM operators WHERE pin_hash NOT LIKE 'pepper$%'").fetchall()
        if not rows:  # nothing to write: a database that needs nothing is not written on open
            return
        with self.transaction():
            self.db.conn.executemany("UPDATE operators SET pin_hash = ? WHERE id = ?",
                                     [(passwords.pepper(h, self.pin_pepper), i) for i, h in rows])

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction; nested use joins the outer one (and its
        durability).

        ``durable=False`` is for bookkeeping a power cut may lose — a sync round's times when
        the round changed nothing — never for what the kiosk recorded: it commits under
        ``synchronous=NORMAL``, so without an fsync (a no-op round paid two, most of its
        time). SQLite's WAL keeps commits in order, so such a commit is on disk at the next
        durable one (which syncs the WAL up to it), or at a checkpoint; and one more than
        ``LAZY_SECONDS`` after the last durable commit is made durable itself, so a power
        cut loses at most that long of bookkeeping."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            lazy = not durable and time.monotonic() - self._synced_at < LAZY_SECONDS
            with refusals():
                if lazy:
                    self.db.conn.execute("PRAGMA synchronous=NORMAL")  # refused inside a transaction
                changes = self.db.conn.total_changes
                try:
                    self.db.conn.execute("BEGIN IMMEDIATE")
                    self._depth = 1
                    try:
                        yield
                        self.db.conn.commit()
                    except BaseException:
                        # a commit that failed (disk full at the last page) keeps nothing either
                        if self.db.conn.in_transaction:
                            self.db.conn.rollback()
                        raise
                    finally:
                        self._depth = 0
                finally:
                    if lazy:
                        self.db.conn.execute("PRAGMA synchronous=FULL")
                if not lazy and self.db.conn.total_changes != changes:  # a commit that wrote nothing syncs nothing
                    self._synced_at = time.monotonic()

    def _rows(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        with self._lock, refusals():
            return list(self.db.query(sql, params))

    def _one(self, sql: str, params: tuple | dict = ()) -> dict | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _schema_version(self) -> int:
        with self._lock, refusals():
            exists = self.db["meta"].exists()
        return int(self.meta("schema_version") or 0) if exists else 0

    def _migrate(self) -> None:
        if self._schema_version() == kiosk_db.SCHEMA_VERSION:
            return  # nothing to write: a read-only database still answers status
        with self.transaction():
            current = self._schema_version()
            if current > kiosk_db.SCHEMA_VERSION:
                raise SchemaTooNew(current=current, supported=kiosk_db.SCHEMA_VERSION)
            for version, sql in kiosk_db.pending(current):
                self.db.executescript(sql)
                self.set_meta(schema_version=version)

    # ------------------------------------------------------------ meta

    # meta is read a dozen times a sync round: straight through the connection, not
    # sqlite_utils' query (which builds a dict per row), half the time per read
    def meta(self, key: str, default: str | None = None) -> str | None:
        with self._lock, refusals():
            row = self.db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None or row[0] is None else row[0]

    def all_meta(self) -> dict[str, str | None]:
        with self._lock, refusals():
            return dict(self.db.conn.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, **values) -> None:
        """Set several meta values at once; ``None`` clears one. Bools are stored 1/0."""
        with self.transaction():
            for key, value in values.items():
                self.db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, _meta_text(value)),
                )

    def changed_meta(self, values: dict) -> set[str]:
        """The keys of ``values`` whose stored value ``set_meta(**values)`` would change."""
        stored = self.all_meta()
        return {k for k, v in values.items() if stored.get(k) != _meta_text(v)}

    # ------------------------------------------------------------ events

    def append_event(self, make: Callable[[int], KioskEvent], resident: str | None = None) -> KioskEvent:
        """Append the event ``make(kseq)`` builds for the next gap-free kseq, chained to
        the one before it, under the columns its kind names (``resident`` for a kind that
        names none itself, as a void takes its target's). Durable when the (outermost)
        transaction commits."""
        with self.transaction():
            last = self._one("SELECT kseq, chain FROM events ORDER BY kseq DESC LIMIT 1")
            kseq = last["kseq"] + 1 if last else 1
            event = make(kseq)
            body = codec.encode(event)
            cols = kinds.kind_of(event).columns(event)
            self.db.execute(
                "INSERT INTO events (kseq, id, kind, at, resident, operator, target, body, chain) VALUES (?,?,?,?,?,?,?,?,?)",
                (kseq, event.id, kinds.tag_of(event), event.at, cols.resident if cols.resident is not None else resident,
                 cols.operator, cols.target, body, codec.chain_hash(last["chain"] if last else GENESIS, body)),
            )
            crash_point("kiosk.record.before_commit")
            return event

    def last_event_at(self) -> int | None:
        row = self._one("SELECT at FROM events ORDER BY kseq DESC LIMIT 1")
        return row["at"] if row else None

    def retime_unbatched(self, rows: list[tuple[int, int, bytes, str]]) -> None:
        """Rewrite un-batched (never signed, never sent) events as (kseq, at, body, chain):
        events recorded at a time the server would refuse, re-timed by ``kiosk.syncing``."""
        with self.transaction():
            for kseq, at, body, chain in rows:
                self.db.execute("UPDATE events SET at = ?, body = ?, chain = ? WHERE kseq = ? AND batch_seq IS NULL",
                                (at, body, chain, kseq))

    def event_row(self, event_id: str) -> dict | None:
        return self._one("SELECT * FROM events WHERE id = ?", (event_id,))

    def void_of(self, event_id: str) -> str | None:
        """The id of the void that reverses ``event_id``, if any."""
        row = self._one("SELECT id FROM events WHERE target = ? LIMIT 1", (event_id,))
        return row["id"] if row else None

    def unbatched_events(self) -> list[dict]:
        return self._rows("SELECT kseq, id, body, chain FROM events WHERE batch_seq IS NULL ORDER BY kseq")

    def chain_before(self, kseq: int) -> str:
        row = self._one("SELECT chain FROM events WHERE kseq = ?", (kseq - 1,))
        return row["chain"] if row else GENESIS

    def confirms(self) -> bool:
        """Does the server publish ``projected`` rows (its ``offers`` row names them)? Then
        a batch counts as confirmed only once one covers it (docs/PROTOCOL.md § 4.8)."""
        return "projected" in json.loads(self.meta("offered_requests") or "[]")

    def _unreflected(self, feed: int | None) -> tuple[str, tuple]:
        """The condition on ``outbox`` (aliased ``o``) of a batch whose effect the mirrored
        balances may not include yet, and its parameters: not acked, acked at a feed position
        the pull cursor (or the given ``feed``: where a visitor's balance was read) has not
        reached, or — from a server that confirms — not yet confirmed at or below it."""
        cursor = int(self.meta("cursor") or 0) if feed is None else feed
        if self.confirms():
            return ("(o.acked_at IS NULL OR o.ack_feed > ? OR o.confirmed_feed IS NULL OR o.confirmed_feed > ?)",
                    (cursor, cursor))
        return "(o.acked_at IS NULL OR o.ack_feed > ?)", (cursor,)

    def unreflected_batches(self, feed: int | None = None) -> list[int]:
        """Batches whose effect the mirrored balances may not include yet (``_unreflected``)."""
        where, params = self._unreflected(feed)
        return [r["seq"] for r in self._rows(f"SELECT seq FROM outbox o WHERE {where}", params)]

    def confirm_batches(self, seq: int, feed: int) -> int:
        """The server confirmed this kiosk's batches up to ``seq`` in its feed row at ``feed``
        (a ``projected`` row): each not confirmed before is confirmed there."""
        return self.db.execute("UPDATE outbox SET confirmed_feed = ? WHERE seq <= ? AND confirmed_feed IS NULL",
                               (feed, seq)).rowcount

    def unconfirmed_event_count(self) -> int:
        """Events in batches the server acknowledged that the mirrored balances do not
        include yet: durable and counted once on the server, not yet confirmed."""
        where, params = self._unreflected(None)
        row = self._one(f"""SELECT count(*) AS n FROM events WHERE batch_seq IN
                              (SELECT seq FROM outbox o WHERE o.acked_at IS NOT NULL AND {where})""", params)
        return row["n"] if row else 0

    def unreflected_events(self, resident: str | None = None, kinds: tuple[str, ...] = (),
                           feed: int | None = None) -> list[dict]:
        batches = self.unreflected_batches(feed)
        where = [f"(batch_seq IS NULL OR batch_seq IN ({marks(len(batches))}))" if batches else "batch_seq IS NULL"]
        params: list = list(batches)
        if resident is not None:
            where.append("resident = ?")
            params.append(resident)
        if kinds:
            where.append(f"kind IN ({marks(len(kinds))})")
            params.extend(kinds)
        return self._rows(f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY kseq", tuple(params))

    def events_between(self, resident: str, start: int, end: int, kind: str) -> list[dict]:
        return self._rows(
            "SELECT * FROM events WHERE resident = ? AND at >= ? AND at < ? AND kind = ? ORDER BY kseq",
            (resident, start, end, kind),
        )

    def history(self, resident: str, limit: int = 50) -> list[dict]:
        """This kiosk's events about a resident, newest first, with sync state (``acked_at``;
        ``confirmed``: in the balances pulled, ``_unreflected``) and void state."""
        where, params = self._unreflected(None)
        return self._rows(
            f"""SELECT e.*, o.acked_at, o.acked_at IS NOT NULL AND NOT {where} AS confirmed, v.id AS voided_by FROM events e
               LEFT JOIN outbox o ON o.seq = e.batch_seq
               LEFT JOIN events v ON v.target = e.id
               WHERE e.resident = ? ORDER BY e.kseq DESC LIMIT ?""",
            (*params, resident, limit),
        )

    def unacked_batch_seqs(self) -> set[int]:
        """The seqs of the batches built and not yet acknowledged by the server (still to push)."""
        return {r["seq"] for r in self._rows("SELECT seq FROM outbox WHERE acked_at IS NULL")}

    def unacked_event_count(self) -> int:
        # Both halves walk the batch_seq index: the status bar asks after every
        # transaction, and a join over a year of events cost ~100 ms at the counter.
        row = self._one(
            """SELECT (SELECT count(*) FROM events WHERE batch_seq IS NULL)
                    + (SELECT count(*) FROM events WHERE batch_seq IN
                         (SELECT seq FROM outbox WHERE acked_at IS NULL)) AS n"""
        )
        return row["n"] if row else 0

    # ------------------------------------------------------------ outbox

    def last_batch(self) -> tuple[int, str]:
        """(seq, hash) of the newest batch built, or (0, GENESIS)."""
        row = self._one("SELECT seq, hash FROM outbox ORDER BY seq DESC LIMIT 1")
        return (row["seq"], row["hash"]) if row else (0, GENESIS)

    def add_batch(self, seq: int, prev: str, body: bytes, signature: str, created_at: int, kseqs: list[int]) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO outbox (seq, hash, prev, body, signature, created_at) VALUES (?,?,?,?,?,?)",
                (seq, codec.digest(body), prev, body, signature, created_at),
            )
            self.db.execute(
                "UPDATE events SET batch_seq = ? WHERE kseq BETWEEN ? AND ? AND batch_seq IS NULL",
                (seq, min(kseqs), max(kseqs)),
            )

    def unacked_batches(self) -> list[dict]:
        return self._rows("SELECT * FROM outbox WHERE acked_at IS NULL ORDER BY seq")

    def batches_from(self, seq: int) -> list[dict]:
        return self._rows("SELECT * FROM outbox WHERE seq >= ? ORDER BY seq", (seq,))

    def mark_sent(self, seq: int, now: int) -> None:
        self._exec("UPDATE outbox SET sent_at = ? WHERE seq = ?", (now, seq))

    def mark_acked(self, seq: int, status: str, feed: int, now: int) -> None:
        self._exec(
            "UPDATE outbox SET acked_at = ?, ack_status = ?, ack_feed = ? WHERE seq = ? AND acked_at IS NULL",
            (now, status, feed, seq),
        )

    def reopen_batches_from(self, seq: int) -> int:
        """Mark acknowledged batches from ``seq`` on as unacknowledged, so they are sent
        again byte for byte: the server said (after a restore) it no longer holds them."""
        with self.transaction():
            return self.db.execute(
                "UPDATE outbox SET acked_at = NULL, ack_status = NULL, ack_feed = NULL, confirmed_feed = NULL"
                " WHERE seq >= ? AND (acked_at IS NOT NULL OR confirmed_feed IS NOT NULL)",
                (seq,),
            ).rowcount

    def discard_batches_from(self, seq: int) -> int:
        """Forget un-acked batches from ``seq`` on and free their events for rebuilding.
        Only batches the server refused (or never accepted) are discarded."""
        with self.transaction():
            self.db.execute("UPDATE events SET batch_seq = NULL WHERE batch_seq >= ?", (seq,))
            return self.db.execute("DELETE FROM outbox WHERE seq >= ? AND acked_at IS NULL", (seq,)).rowcount

    def _exec(self, sql: str, params: tuple) -> None:
        with self.transaction():
            self.db.execute(sql, params)

    # ------------------------------------------------------------ mirror

    def apply_changes(self, changes: list[tuple[str, str, dict | None]], meta: dict) -> None:
        """Apply one pull page's decoded changes and its meta (cursor, lease, policy,
        revoked) in one transaction: a page is applied whole or not at all."""
        with self.transaction():
            # consecutive changes of one kind and shape go in one executemany: a first sync
            # brings a million rows, and row-at-a-time inserts were most of its time
            run: list = []
            shape = None
            for kind, key, row in changes:
                if row is not None and FEEDS[kind].table == "residents":
                    row = {**row, "initials": initials(row["name"])}  # searched by (migration 4)
                if row is not None and FEEDS[kind].table == "operators" and self.pin_pepper is not None:
                    row = {**row, "pin_hash": passwords.pepper(row["pin_hash"], self.pin_pepper)}
                this = (kind, None if row is None else tuple(row))
                if this != shape:
                    self._apply_run(shape, run)
                    shape, run = this, []
                run.append((key,) if row is None else tuple(row.values()))
            self._apply_run(shape, run)
            self.set_meta(**meta)

    def keep_communities(self, communities: list[str]) -> None:
        """Drop the residents (and their balances) of every community not in ``communities``:
        the shop no longer serves them, and a stolen kiosk should hold as few people as it can."""
        with self.transaction():
            self.db.conn.execute(f"DELETE FROM residents WHERE community NOT IN ({marks(len(communities))})", communities)
            self.db.conn.execute("DELETE FROM balances WHERE card NOT IN (SELECT card FROM residents)")

    def _apply_run(self, shape: tuple | None, rows: list[tuple]) -> None:
        if not rows:
            return
        kind, cols = shape
        table, pk = FEEDS[kind].table, FEEDS[kind].table_key
        if cols is None:
            self.db.conn.executemany(f"DELETE FROM {table} WHERE {pk} = ?", rows)
        else:
            names = ", ".join(cols)
            self.db.conn.executemany(
                f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})", rows)

    def voice_item(self, code: str) -> dict | None:
        """A letter or request as the server last said it stands (feed ``voice_reply``)."""
        return self._one("SELECT * FROM voice_items WHERE code = ?", (code,))

    def voice_items(self, card: str) -> list[dict]:
        """A resident's letters and requests as the server last said they stand, newest first."""
        return self._rows("SELECT * FROM voice_items WHERE resident = ? ORDER BY at DESC", (card,))

    def task(self, task_id: str) -> dict | None:
        """A volunteer task as the server last said it stands (feed ``task``), claims decoded."""
        row = self._one("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return row and row | {"claims": json.loads(row["claims"])}

    def tasks(self, community: str) -> list[dict]:
        """The volunteer tasks of ``community``, open first, newest first, claims decoded."""
        rows = self._rows("SELECT * FROM tasks WHERE community = ? ORDER BY status = 'closed', posted_at DESC, id",
                          (community,))
        return [r | {"claims": json.loads(r["claims"])} for r in rows]

    def resident(self, card: str) -> dict | None:
        """A mirrored resident, else a visitor looked up online (``visitor`` 1, no phone tail)."""
        return self._one("SELECT *, 0 AS visitor FROM residents WHERE card = ?", (card,)) or self._one(
            "SELECT card, name, '' AS phone_tail, community, status, '' AS initials, 1 AS visitor, county, county_name"
            " FROM visitors WHERE card = ?", (card,))

    # ------------------------------------------------------------ visitors (looked up online)

    def visitor(self, card: str) -> dict | None:
        """A visitor row, unless the card is mirrored (then the mirror is the truth)."""
        return self._one("SELECT v.* FROM visitors v WHERE v.card = ?"
                         " AND NOT EXISTS (SELECT 1 FROM residents r WHERE r.card = v.card)", (card,))

    def drop_visitors(self, before: int) -> None:
        """Forget the visitors not looked up since ``before``: a stolen kiosk holds few."""
        self._exec("DELETE FROM visitors WHERE fetched_at < ?", (before,))

    def put_visitor(self, row: dict, keep_since: int) -> None:
        """Keep (or refresh) one looked-up resident, and drop those not looked up since
        ``keep_since``. ``county`` (and its name) only for a resident of another county."""
        with self.transaction():
            self.drop_visitors(keep_since)
            cols = ("card", "name", "community", "community_name", "status", "points", "feed", "fetched_at", "county",
                    "county_name")
            self.db.conn.execute(f"INSERT OR REPLACE INTO visitors ({', '.join(cols)}) VALUES ({marks(len(cols))})",
                                 tuple(row.get(c) for c in cols))

    def refresh_visitor(self, card: str, points: int, feed: int, at: int) -> None:
        """A newer confirmed balance of a visitor (a history reply), read at ``feed``."""
        self._exec("UPDATE visitors SET points = ?, feed = ?, fetched_at = ? WHERE card = ? AND feed <= ?",
                   (points, feed, at, card, feed))

    def rule(self, code: str) -> dict | None:
        return self._one("SELECT * FROM rules WHERE code = ?", (code,))

    def good(self, sku: str) -> dict | None:
        return self._one("SELECT * FROM goods WHERE sku = ?", (sku,))

    def operator(self, op_id: str) -> dict | None:
        return self._one("SELECT * FROM operators WHERE id = ?", (op_id,))

    def community(self, community: str) -> dict | None:
        return self._one("SELECT * FROM communities WHERE id = ?", (community,))

    def stock_qty(self, sku: str) -> int:
        row = self._one("SELECT qty FROM stock WHERE sku = ?", (sku,))
        return row["qty"] if row else 0

    def balance_points(self, card: str) -> int:
        row = self._one("SELECT points FROM balances WHERE card = ?", (card,))
        return row["points"] if row else 0

    def _resident_matches(self, text: str) -> list[tuple[str, str, tuple]]:
        """The queries that find residents for a search text, best first: exact card, last
        phone digits, name prefix, pinyin initials prefix, then anywhere in the name. Each
        is (FROM ... WHERE naming the row ``r``, ORDER BY, parameters): an index seek."""
        found = [("residents r WHERE card = ?", "", (text,))]
        if text.isdigit() and len(text) <= 4:
            found.append(("residents r WHERE phone_tail = ?", "", (text,)))
        # a range scan uses the name index; LIKE would not for non-ASCII names
        found.append(("residents r WHERE name >= ? AND name < ?", "ORDER BY name", (text, text + "\U0010ffff")))
        if is_initials(text):
            key = text.lower()
            found.append(("residents r WHERE initials >= ? AND initials < ?", "ORDER BY initials, name",
                          (key, key + "\U0010ffff")))
        if len(text) <= kiosk_db.GRAM_MAX:
            # anywhere else in the name: the gram index, checked against the row itself
            found.append(("resident_grams g JOIN residents r ON r.card = g.card WHERE g.gram = ? AND instr(r.name, ?) > 0",
                          "", (text, text)))
        elif not text.isdigit():
            # longer than the index reaches: scan (a long run of digits is a card or a
            # phone number, never part of a name, so a card lookup never gets here)
            found.append(("residents r WHERE instr(r.name, ?) > 0", "", (text,)))
        return found

    def find_residents(self, text: str, limit: int = 20) -> list[dict]:
        """By exact card, by last phone digits, by name (prefix first, then anywhere) or by
        the pinyin initials of the name; each row with its community's name
        (``community_name``, the id until communities are mirrored)."""
        seen: dict[str, dict] = {}
        for where, order, params in self._resident_matches(text):
            if len(seen) >= limit:
                break
            for row in self._rows(f"SELECT r.* FROM {where} {order} LIMIT ?", (*params, limit)):
                seen.setdefault(row["card"], row)
        rows = list(seen.values())[:limit]
        ids = sorted({r["community"] for r in rows})
        names = {c["id"]: c["name"] for c in self._rows(
            f"SELECT id, name FROM communities WHERE id IN ({','.join('?' * len(ids))})", tuple(ids))} if ids else {}
        return [{**r, "community_name": names.get(r["community"], r["community"])} for r in rows]

    def count_residents(self, text: str, cap: int) -> int:
        """How many residents ``find_residents`` would list with no limit, but at most
        ``cap`` + 1: each query reads no more than that many index entries."""
        matches = self._resident_matches(text)
        most = int(cap) + 1
        union = " UNION ".join(f"SELECT card FROM (SELECT r.card FROM {where} LIMIT {most})" for where, _, _ in matches)
        row = self._one(f"SELECT count(*) AS n FROM ({union})", tuple(p for _, _, params in matches for p in params))
        return min(row["n"], most) if row else 0

    def rules(self) -> list[dict]:
        return self._rows("SELECT * FROM rules ORDER BY kind, code")

    def goods(self) -> list[dict]:
        return self._rows(
            "SELECT g.*, coalesce(s.qty, 0) AS stock FROM goods g LEFT JOIN stock s ON s.sku = g.sku ORDER BY g.sku"
        )

    # ------------------------------------------------------------ counter (app screens)

    def recent_events(self, limit: int = 30) -> list[dict]:
        """This kiosk's newest events, with the void that reversed each (if any)."""
        return self._rows(
            """SELECT e.kseq, e.id, e.kind, e.at, e.resident, e.operator, e.target, e.body, v.id AS voided_by
               FROM events e LEFT JOIN events v ON v.target = e.id ORDER BY e.kseq DESC LIMIT ?""",
            (limit,),
        )

    def events_from(self, kseq: int) -> list[dict]:
        """Events from ``kseq`` on, oldest first (a shift's events; kseq, not the clock,
        because a kiosk clock can be wound back)."""
        return self._rows("SELECT kseq, id, kind, at, resident, operator, target, body FROM events WHERE kseq >= ? ORDER BY kseq", (kseq,))

    # ------------------------------------------------------------ board and checkpoints (pulled)

    def boards_of(self, community: str) -> list[dict]:
        """This community's mirrored public boards, newest month first."""
        return self._rows("SELECT * FROM board WHERE community = ? ORDER BY month DESC", (community,))

    def board_communities(self) -> list[str]:
        """Every community with a mirrored public board."""
        return [r["community"] for r in self._rows("SELECT DISTINCT community FROM board ORDER BY community")]

    def checkpoints(self) -> list[dict]:
        """Every signed server checkpoint this kiosk has pulled, oldest first."""
        return self._rows("SELECT * FROM checkpoints ORDER BY n")

    def latest_tree_head(self) -> dict | None:
        """The newest checkpoint note this kiosk accepted (n, note), or None."""
        rows = self._rows("SELECT * FROM tree_heads ORDER BY n DESC LIMIT 1")
        return rows[0] if rows else None

    def checkpoints_to_check(self, n: int) -> list[dict]:
        """What a newly pulled checkpoint is checked against: the one held under number
        ``n`` (if any) and the largest one held."""
        return self._rows(
            "SELECT * FROM checkpoints WHERE n = ?"
            " UNION SELECT * FROM (SELECT * FROM checkpoints ORDER BY size DESC, n DESC LIMIT 1)", (n,))
