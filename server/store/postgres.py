"""The server store on PostgreSQL (``open_store("postgresql://…")``), through psycopg 3 and
its connection pool.

The same transactions as on SQLite (``server.store.db.Store``, whose group commit and
savepoints this class inherits), so the single-writer assumptions the services were written
under still hold with several server processes on one database:

- a write transaction takes ``pg_advisory_xact_lock(WRITER_LOCK)`` first, so write
  transactions run one at a time across every process, as ``BEGIN IMMEDIATE`` makes them on
  SQLite; in READ COMMITTED each statement after the lock sees every commit before it;
- a keyed write (``write_keyed``: a push, a pull's bookkeeping — one kiosk's rows) takes
  the writer lock *shared* instead, then ``pg_advisory_xact_lock(CHAIN_LOCK, chain_key(key))``
  for each of its group's keys in ascending order, all before its first statement. Keyed
  writes of different kiosks from different processes run at once (a process's own go
  through its one writer connection, sharing commits); those of one kiosk take turns,
  and each statement after the lock sees the other's commit, so the same batch pushed to
  two processes at once is stored once (the second finds the (kiosk, seq) taken and
  answers as for a resend). Every other write still holds the lock exclusively, so it runs
  alone, as before: staff writes (revoke, rotate, re-key move a kiosk row a push reads),
  central batches and everything that writes the feed (a pull's snapshot then always holds
  a gap-free prefix of the feed), and the projector's chunks, whose cursor must never pass
  a log position still uncommitted: concurrent pushes take log positions in one order and
  may commit in another, so a snapshot can see position n+1 before n; the projector's
  write, holding the lock exclusively (no push in flight), checks that every position of
  its chunk's range is the chunk's (``server.store.log.count_between``). No lock is taken
  in the other order (the exclusive holder takes no key lock, the key locks are taken
  sorted, before any row is touched), so these never deadlock;
- a read is a REPEATABLE READ READ ONLY transaction on a pooled connection: one snapshot,
  never waiting for the writer;
- a read inside this thread's own write sees the write (it is the writer's transaction);
- the projector holds a lease per scope (``projector_lease``): a session-level advisory lock
  ``pg_try_advisory_lock(PROJECTOR_LOCK, lease_key(scope))`` on a connection of its own
  (``application_name`` ``jifen-projector pid=<pid>``, so ``pg_stat_activity`` with
  ``pg_locks`` names the process projecting), taken for one projecting round and released
  after it. Another process skips (or, inline, waits for) the round while it is held;
  when the holder's process dies its connection closes and PostgreSQL releases the lock, so
  the next process to try takes over (TCP keepalives on that connection bound how long a
  lost machine keeps it). The lease saves folding twice; what keeps a batch from counting
  twice is still the cursor moved in the same transaction as the rows.

Every connection is named ``jifen-server`` (``application_name``), by which a restore
finds a server still running (``server.store.pg_backup``). Each process has one writer connection (its lock serialises the process's writers, and
``write_grouped`` / ``write_keyed`` share a commit among them) and a pool of readers. Results come back
as the SQLite store gives them: an integral ``numeric`` (``sum`` of integers) as ``int``,
a boolean as 0 or 1.
"""

import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from server.store.pg_backup import APPLICATION_NAME
from server.store.db import _SET_VERSION, MigrationRefused, Store
from server.store.tx import PostgresSql, Tx

#: the advisory lock every write transaction holds (any constant no other tool uses)
WRITER_LOCK = 0x6A6966656E  # "jifen"
#: the first key of every projector lease (two-int advisory keys never meet the one-bigint
#: ``WRITER_LOCK``); the second is ``lease_key(scope)``
PROJECTOR_LOCK = 0x6A66  # "jf"
#: the first key of the lock a keyed write (``write_keyed``) holds on its kiosk's chain; the
#: second is ``chain_key(kiosk)``
CHAIN_LOCK = 0x6A63  # "jc"
#: how the lease connection's server side notices a vanished client machine (seconds)
LEASE_KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
#: reader connections per process (each serving thread holds one while it reads)
POOL_SIZE = 16


class _IntegralNumeric(Loader):
    def load(self, data) -> int | Decimal:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else value


class _BoolAsInt(Loader):
    def load(self, data) -> int:
        return 1 if bytes(data) == b"t" else 0


def _configure(conn: psycopg.Connection) -> None:
    conn.adapters.register_loader("numeric", _IntegralNumeric)
    conn.adapters.register_loader("bool", _BoolAsInt)


def _int4(text: str) -> int:
    """A stable signed 32-bit advisory key for ``text`` (its CRC-32)."""
    key = zlib.crc32(text.encode())
    return key - (1 << 32) if key >= 1 << 31 else key


def lease_key(scope: str) -> int:
    """The advisory key (a signed 32-bit integer) of the projector lease for ``scope``."""
    return _int4(scope)


def chain_key(key: str) -> int:
    """The second advisory key of ``write_keyed(key)``'s chain lock (two kiosks whose ids
    share a CRC-32 share a lock: they take turns, nothing worse)."""
    return _int4(key)


def _connect(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor, application_name=APPLICATION_NAME)
    _configure(conn)
    return conn


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(self, dsn: str):
        super().__init__(_connect(dsn))
        self._dsn = dsn
        self._lease: psycopg.Connection | None = None
        self._lease_lock = threading.RLock()  # a shared batch takes its other counties' leases inside its own
        self._pool = ConnectionPool(dsn, min_size=1, max_size=POOL_SIZE, open=True, configure=_configure,
                                    kwargs={"autocommit": True, "cursor_factory": psycopg.ClientCursor,
                                            "application_name": APPLICATION_NAME})

    @contextmanager
    def read(self) -> Iterator[Tx]:
        local = self._local
        if getattr(local, "writing", 0):
            with self._lock:
                yield self._tx
            return
        if getattr(local, "reading", None) is not None:  # nested: the same snapshot
            yield local.reading
            return
        with self._pool.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            local.reading = Tx(PostgresSql(conn))
            try:
                yield local.reading
            finally:
                local.reading = None
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.execute("ROLLBACK")

    @contextmanager
    def projector_lease(self, scope: str, wait: float = 0) -> Iterator[bool]:
        with self._lease_lock:
            key = [PROJECTOR_LOCK, lease_key(scope)]
            held = self._take_lease(key, wait)
            try:
                yield held
            finally:
                if held:
                    try:
                        self._lease.execute("SELECT pg_advisory_unlock(%s, %s)", key)
                    except psycopg.Error:  # the connection is gone, and the lock with it
                        self._drop_lease()

    def _take_lease(self, key: list[int], wait: float) -> bool:
        for attempt in (1, 2):  # a connection broken since the last round: once more on a new one
            try:
                if self._lease is None:
                    self._lease = psycopg.connect(self._dsn, autocommit=True, application_name=f"jifen-projector pid={os.getpid()}",
                                                  keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
                    for name, value in LEASE_KEEPALIVE.items():
                        self._lease.execute(f"SET {name} = {int(value)}")
                if wait <= 0:
                    return self._lease.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0]
                self._lease.execute(f"SET lock_timeout = {max(1, int(wait * 1000))}")
                try:
                    self._lease.execute("SELECT pg_advisory_lock(%s, %s)", key)
                    return True
                except psycopg.errors.LockNotAvailable:
                    return False
            except psycopg.OperationalError:
                self._drop_lease()
                if attempt == 2:
                    raise
        return False

    def _drop_lease(self) -> None:
        if self._lease is not None:
            try:
                self._lease.close()
            finally:
                self._lease = None

    @staticmethod
    def _handle(conn) -> PostgresSql:
        return PostgresSql(conn)

    def _begin_write(self, keys: frozenset[str] | None = None) -> None:
        self._conn.execute("BEGIN")
        if keys is None:
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK])
            return
        self._conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", [WRITER_LOCK])
        for key in sorted({chain_key(k) for k in keys}):  # one order everywhere: no deadlock
            self._conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK, key])

    def _rollback(self) -> None:
        if self._conn.info.transaction_status != TransactionStatus.IDLE:
            self._conn.execute("ROLLBACK")

    def _apply_migration(self, version: int, sql: str) -> None:
        from server.store.dialect import postgresql
        self._begin_write()
        try:
            if self.schema_version() >= version:  # another process applied it while we waited
                self._conn.execute("COMMIT")
                return
            self._conn.execute(postgresql(sql, bound=False))
            self._conn.execute(_SET_VERSION.format(version=version))
        except psycopg.errors.UniqueViolation as exc:
            self._rollback()
            raise MigrationRefused(f"migration {version} refused: {exc}") from None
        except BaseException:
            self._rollback()
            raise
        self._conn.execute("COMMIT")

    def schema_version(self) -> int:
        if getattr(self._local, "writing", 0) or self._conn.info.transaction_status != TransactionStatus.IDLE:
            sql = self._tx.sql
            if not sql.has_table("meta"):
                return 0
            row = sql.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            return int(row[0]) if row else 0
        return super().schema_version()

    def close(self) -> None:
        with self._lease_lock:
            self._drop_lease()
        self._pool.close()
        with self._lock:
            self._conn.close()


def open_postgres(dsn: str, migrate: bool = True) -> PostgresStore:
    store = PostgresStore(dsn)
    if migrate:
        store.migrate()
    return store
