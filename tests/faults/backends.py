"""The server database a fault suite runs on: SQLite's ``server.db`` in the data folder, or a
PostgreSQL database on the session's throwaway cluster (``tests/pgcluster.py``).

``ServerDb`` is one test's database and data folder. With PostgreSQL the folder holds only
the server key, the suite's ``JIFEN_DATABASE`` names the database (so every ``jifen-server``
process the test starts runs on it), and ``settings()`` gives in-process servers the same.
``connect()`` is what the oracle reads through: a connection whose ``execute`` takes
SQLite's ``?`` placeholders on either backend and has ``dialect``.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from server.settings import Settings

BACKENDS = ("sqlite", "postgresql")


class _PgOracle:
    """A psycopg connection behind the few calls the oracle makes on a sqlite3 one."""

    dialect = "postgresql"

    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql.replace("?", "%s"), list(params)) if params else self.conn.execute(sql)

    def commit(self) -> None:
        self.conn.commit()


class _SqliteOracle(sqlite3.Connection):
    dialect = "sqlite"


class ServerDb:
    def __init__(self, data: Path, dsn: str | None = None):
        self.data = data
        self.dsn = dsn

    @property
    def backend(self) -> str:
        return "postgresql" if self.dsn else "sqlite"

    def settings(self, **kw) -> Settings:
        return Settings(data_dir=self.data, database=self.dsn, **kw)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection | _PgOracle]:
        """A connection to the server database (commit to keep a change)."""
        if self.dsn is None:
            with closing(sqlite3.connect(self.data / "server.db", factory=_SqliteOracle)) as db:
                yield db
            return
        import psycopg
        with psycopg.connect(self.dsn) as conn:
            yield _PgOracle(conn)

    def one(self, sql: str, params=()) -> tuple:
        with self.connect() as db:
            return tuple(db.execute(sql, params).fetchone())

    def integrity_ok(self) -> None:
        """SQLite: ``PRAGMA integrity_check`` of the file. PostgreSQL keeps its own files
        whole through a kill (WAL replay at start): that it answers is what is checked."""
        if self.dsn is None:
            assert self.one("PRAGMA integrity_check") == ("ok",), self.data
        else:
            assert self.one("SELECT 1") == (1,)
