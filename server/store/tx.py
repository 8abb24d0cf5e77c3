"""The transaction type the store hands to services: ``Tx``, and the two handles on a
connection it carries, ``SqliteSql`` and ``PostgresSql``.

``Store.read()`` yields one for a snapshot, ``Store.write()`` and ``write_grouped`` one
for a write transaction. Above the store a ``Tx`` is opaque: services pass it to the
store's query functions (``chain.insert_batch(tx, …)``) and never query it themselves,
so they do not know which database runs underneath. Inside ``server.store``, ``sql`` is the
handle the query modules run their SQL through, the same four calls on either backend:
``execute`` (a cursor of tuples), ``query`` (rows as dicts), ``executemany`` and
``has_table``. The SQL is written in SQLite's spelling; ``PostgresSql`` rewrites each
statement through ``server.store.dialect.postgresql`` (the one translation point).
"""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from server.store.dialect import postgresql


class SqliteSql(sqlite_utils.Database):
    """sqlite-utils' handle on the SQLite connection, with the calls ``PostgresSql`` has."""

    dialect = "sqlite"

    def executemany(self, sql: str, rows) -> None:
        self.conn.executemany(sql, rows)

    def has_table(self, name: str) -> bool:
        return self[name].exists()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.atomic():
            yield


class PostgresSql:
    """A psycopg connection (client-side binding, autocommit off by our own BEGIN) behind
    the calls the query modules make."""

    dialect = "postgresql"
    _names = itertools.count(1)

    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql: str, params=None):
        return self._run(self.conn.cursor(), sql, params)

    def query(self, sql: str, params=None) -> Iterator[dict]:
        from psycopg.rows import dict_row
        return iter(self._run(self.conn.cursor(row_factory=dict_row), sql, params).fetchall())

    def executemany(self, sql: str, rows) -> None:
        rows = list(rows)
        if rows:
            self.conn.cursor().executemany(postgresql(sql, named=isinstance(rows[0], dict)), rows)

    @staticmethod
    def _run(cur, sql: str, params):
        if not params:
            return cur.execute(postgresql(sql, bound=False))
        if isinstance(params, dict):
            return cur.execute(postgresql(sql, named=True), params)
        return cur.execute(postgresql(sql), list(params))

    def has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()[0]

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        name = f"sp{next(self._names)}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.conn.execute(f"RELEASE SAVEPOINT {name}")


def limit_clause(limit: int) -> str:
    """`` LIMIT ?`` for a limit, nothing for -1 (no limit: SQLite's ``LIMIT -1``, which
    PostgreSQL refuses)."""
    return " LIMIT ?" if limit >= 0 else ""


class Tx:
    """One read snapshot or one write transaction on the server database."""

    __slots__ = ("sql",)

    def __init__(self, sql: SqliteSql | PostgresSql):
        self.sql = sql  # for server.store's query modules only

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested step of this transaction: if its block raises, only the step is undone."""
        with self.sql.savepoint():
            yield
