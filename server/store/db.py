"""Opening the server database: pragmas, migrations, and the one guarded connection.

SQLite in WAL mode with ``synchronous=FULL``: nothing is acknowledged before its
transaction is durable. One connection and one lock serialise every use of it, so each
write use case is exactly one ``BEGIN IMMEDIATE`` transaction and readers never see half
of one (datasette's single-writer design, at the scale of one shop network).
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from schema.server_db import MIGRATIONS, pending


class Store:
    """The server database behind one connection. Use ``read()`` and ``write()``."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self._lock = threading.RLock()
        self.db = sqlite_utils.Database(conn)

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        with self._lock:
            yield self.db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction: committed (durably) on exit, rolled back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def schema_version(self) -> int:
        with self.read() as db:
            if not db["meta"].exists():
                return 0
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            return int(row[0]) if row else 0

    def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own transaction. Returns versions applied."""
        applied = []
        for version, sql in pending(self.schema_version(), MIGRATIONS):
            with self._lock:
                # executescript() commits first, so the BEGIN is part of the script.
                try:
                    self._conn.executescript(
                        f"BEGIN IMMEDIATE;\n{sql}\n;"
                        f"INSERT INTO meta(key, value) VALUES ('schema_version', '{version}') "
                        f"ON CONFLICT(key) DO UPDATE SET value = excluded.value;\nCOMMIT;"
                    )
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            applied.append(version)
        return applied

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_store(path: Path, migrate: bool = True) -> Store:
    """Open (creating if needed) the database at ``path`` with the server's pragmas."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), never implicit.
    # check_same_thread=False: handlers run in worker threads; the lock serialises them.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    store = Store(conn)
    if migrate:
        store.migrate()
    return store
