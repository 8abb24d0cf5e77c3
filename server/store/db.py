"""Opening the server database: pragmas, migrations, the one guarded writer connection and
the snapshot readers.

SQLite in WAL mode with ``synchronous=FULL``: nothing is acknowledged before its
transaction is durable. One writer connection and one lock serialise every write, so each
write use case is exactly one ``BEGIN IMMEDIATE`` transaction (datasette's single-writer
design, at the scale of one shop network); ``write_grouped`` lets concurrent ones share a
commit, and ``write_keyed`` is the same for a write confined to one kiosk's rows (on SQLite
nothing more; on PostgreSQL those of different kiosks run at once). Reads take a snapshot on their own thread's connection, so they never wait for the
writer and never see half of a write.

``open_store`` given a ``postgresql://`` URL opens ``server.store.postgres.PostgresStore``
instead, a subclass that keeps these transactions (its hooks: ``_begin_write``,
``_rollback``, ``_apply_migration``, ``read``).
"""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from schema.server_db import INITIALS_FUNCTION, for_dialect, pending
from server.store.tx import SqliteSql, Tx
from server.files import private_file, private_folder
from sync.initials import initials


T = TypeVar("T")


class MigrationRefused(RuntimeError):
    """A migration found data it cannot carry forward (its message says what to fix); the
    database is left at the version it had."""


class _Job:
    """One caller's share of a group commit."""

    __slots__ = ("work", "key", "done", "result", "error")

    def __init__(self, work: Callable, key: str | None = None):
        self.work = work
        self.key = key  # ``write_keyed``'s key; None: the job needs the whole writer
        self.done = False
        self.result = None
        self.error: BaseException | None = None


#: The writer checkpoints the WAL itself only past this many pages (256 MiB); below it
#: the background ``Checkpointer`` does it, off the request path.
WRITER_CHECKPOINT_PAGES = 65536


class Checkpointer(threading.Thread):
    """Copies committed WAL frames back into the database file from its own connection.

    With SQLite's default, the commit that takes the WAL past 1000 pages also checkpoints
    it — copies and fsyncs the database file — while the kiosk waits for its
    acknowledgement; a batch of 500 events dirties about 1,800 pages, so every push paid
    for it (profiled: a third of the push path). A PASSIVE checkpoint takes no writer
    lock, so here it runs beside the writer, at most every ``interval`` seconds after a
    commit. Durability is unchanged: a commit is durable once its WAL frames are synced.
    """

    def __init__(self, path: Path, interval: float = 0.25):
        super().__init__(name="wal-checkpointer", daemon=True)
        self.path = path
        self.interval = interval
        self._wake = threading.Event()
        self._halt = threading.Event()

    def poke(self) -> None:
        self._wake.set()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        try:
            while not self._halt.is_set():
                self._wake.wait()
                self._wake.clear()
                if self._halt.is_set():
                    break
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # busy or closing: the next commit pokes again, the writer's limit is the backstop
                self._halt.wait(self.interval)
        finally:
            conn.close()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        self.join(5)


#: what each migration's transaction ends with (both dialects accept it)
_SET_VERSION = ("INSERT INTO meta(key, value) VALUES ('schema_version', '{version}') "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value")


class Store:
    """The server database behind one connection. Use ``read()`` and ``write()``; each
    hands out a ``Tx`` for the store's query functions. This class is the SQLite store;
    ``server.store.postgres.PostgresStore`` runs the same transactions on PostgreSQL."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, checkpointer: Checkpointer | None = None, path: Path | None = None):
        self._conn = conn
        self._lock = threading.RLock()
        self._tx = Tx(self._handle(conn))
        self._checkpointer = checkpointer
        self._path = path  # with a path, reads get their own connections (see ``read``)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._queue: list[_Job] = []
        self._queue_lock = threading.Lock()

    @staticmethod
    def _handle(conn) -> SqliteSql:
        return SqliteSql(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A consistent snapshot of what is committed.

        Each thread reads through its own connection inside a read transaction, so a
        read never waits for the writer's commit (WAL readers do not block, and are not
        blocked by, the writer) and never sees half of a write. Profiled under 200
        syncing kiosks, reads queued behind the writer lock took a quarter of the time.
        Inside this thread's own write, a read sees that write's changes as before."""
        local = self._local
        if self._path is None or getattr(local, "writing", 0):
            with self._lock:
                yield self._tx
            return
        if getattr(local, "reading", 0):  # nested: the same snapshot
            local.reading += 1
            try:
                yield local.tx
            finally:
                local.reading -= 1
            return
        if getattr(local, "tx", None) is None:
            conn = _connect(self._path)
            with self._lock:
                self._readers.append(conn)
            local.tx = Tx(SqliteSql(conn))
        conn = local.tx.sql.conn
        conn.execute("BEGIN")
        local.reading = 1
        try:
            yield local.tx
        finally:
            local.reading = 0
            if conn.in_transaction:
                conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One transaction: committed (durably) on exit, rolled back on any exception."""
        with self._lock, self._writing():
            self._begin_write()
            try:
                yield self._tx
            except BaseException:
                self._rollback()
                raise
            self._conn.execute("COMMIT")

    def _begin_write(self, keys: frozenset[str] | None = None) -> None:
        """Start the write transaction, holding the database's one writer lock. ``keys``
        (``write_keyed``): the transaction writes only what belongs to these keys; SQLite has
        one writer whatever they are."""
        self._conn.execute("BEGIN IMMEDIATE")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Mark this thread as inside a write, so its reads see the write's changes."""
        local = self._local
        local.writing = getattr(local, "writing", 0) + 1
        try:
            yield
        finally:
            local.writing -= 1
        if self._checkpointer is not None:
            self._checkpointer.poke()

    def write_grouped(self, work: Callable[[Tx], T]) -> T:
        """``work(db)`` in a write transaction shared with the other ``write_grouped``
        calls waiting at the same moment (group commit), and its result once that
        transaction is durably committed.

        Whoever takes the writer lock runs every job queued so far, each inside its own
        savepoint — a job that raises is rolled back alone and its exception re-raised in
        its own caller — and commits them with one fsync. Under concurrent pushes the
        commit and the index pages it writes are paid once per group, not per batch. If
        the commit itself fails, every job in the group fails: nothing of theirs is kept.
        """
        return self._grouped(_Job(work))

    def write_keyed(self, key: str, work: Callable[[Tx], T]) -> T:
        """``write_grouped`` for work that writes only rows belonging to ``key`` — one kiosk's
        chain and bookkeeping (its batches, their log positions, its ``kiosks`` row, review
        items about it) — and reads nothing another key's keyed write changes.

        Keyed writes of one key run one at a time, and every keyed write waits for, and is
        waited for by, every unkeyed write (``write``, ``write_grouped``). On SQLite that is
        the one writer, as for any write. ``server.store.postgres`` runs keyed writes of
        different keys at once (a shared writer lock and a lock per key), so server
        processes pushing for different kiosks do not take turns."""
        return self._grouped(_Job(work, key))

    def _grouped(self, job: "_Job"):
        with self._queue_lock:
            self._queue.append(job)
        with self._lock, self._writing():
            if not job.done:
                with self._queue_lock:
                    jobs, self._queue = self._queue, []
                self._run_group(jobs)
        if job.error is not None:
            raise job.error
        return job.result

    @contextmanager
    def projector_lease(self, scope: str, wait: float = 0) -> Iterator[bool]:
        """Whether this process may project ``scope`` now (``server.services.projector``),
        held for the block. On SQLite always: one machine runs the server, and processes
        sharing the file are ordered by the projector's cursor check under ``BEGIN
        IMMEDIATE``. ``server.store.postgres`` makes it one process at a time (an advisory
        lock), waiting up to ``wait`` seconds for it."""
        yield True

    def writers_waiting(self) -> int:
        """How many ``write_grouped`` calls are queued for the writer now (pushes)."""
        return len(self._queue)

    def _run_group(self, jobs: list["_Job"]) -> None:
        keys = frozenset(job.key for job in jobs)
        try:
            self._begin_write(None if None in keys else keys)
            for job in jobs:
                self._conn.execute("SAVEPOINT grouped_job")
                try:
                    job.result = job.work(self._tx)
                except BaseException as exc:  # handed to the job's own caller
                    self._conn.execute("ROLLBACK TO grouped_job")
                    job.error = exc
                self._conn.execute("RELEASE grouped_job")
            self._conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            for job in jobs:
                if job.error is None:
                    job.result, job.error = None, exc
        finally:
            for job in jobs:
                job.done = True
        if self._checkpointer is not None:
            self._checkpointer.poke()

    def schema_version(self) -> int:
        with self.read() as db:
            if not db.sql.has_table("meta"):
                return 0
            row = db.sql.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            return int(row[0]) if row else 0

    def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own transaction. Returns versions applied."""
        applied = []
        for version, sql in pending(self.schema_version(), for_dialect(self.dialect)):
            with self._lock:
                self._apply_migration(version, sql)
            applied.append(version)
        return applied

    def _apply_migration(self, version: int, sql: str) -> None:
        # executescript() commits first, so the BEGIN is part of the script.
        try:
            self._conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n;{_SET_VERSION.format(version=version)};\nCOMMIT;")
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, sqlite3.IntegrityError) and str(exc).startswith("migration "):
                raise MigrationRefused(str(exc)) from None  # the data need a person first
            raise

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), never implicit.
    # check_same_thread=False: handlers run in worker threads; the lock serialises them.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    # migration 11 fills the initials of residents stored before it
    conn.create_function(INITIALS_FUNCTION, 1, initials, deterministic=True)
    return conn


def is_url(database: str | Path) -> bool:
    """Whether ``database`` names a PostgreSQL database rather than a SQLite file."""
    return str(database).startswith(("postgresql://", "postgres://"))


def open_store(path: Path | str, migrate: bool = True, cache_mib: int = 256) -> Store:
    """Open (creating if needed) the database at ``path`` with the server's pragmas, or,
    given a ``postgresql://`` URL, that PostgreSQL database (``server.store.postgres``). The
    SQLite writer keeps ``cache_mib`` MiB of pages in memory (the hot pages of a city's
    balances, counters and indexes: SQLite's default is 2 MiB)."""
    if is_url(path):
        from server.store.postgres import open_postgres  # psycopg only where PostgreSQL is used
        return open_postgres(str(path), migrate)
    path = Path(path)
    private_folder(path.parent)
    conn = _connect(path)
    conn.execute(f"PRAGMA cache_size={-int(cache_mib) * 1024}")
    private_file(path)  # SQLite gives its -wal and -shm files the database's mode
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")
    checkpointer = Checkpointer(path)
    checkpointer.start()
    store = Store(conn, checkpointer, path)
    if migrate:
        store.migrate()
    return store
