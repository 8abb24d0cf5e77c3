"""A SQLite copy of the server database read in one snapshot: what ``jifen-server reproject
--check`` folds the log in and compares with on PostgreSQL (``server.services.projector.rebuild``).

``sqlite_copy`` creates a SQLite database at ``dest`` by the same migrations (the same
tables, indexes and triggers as a SQLite server's), then copies into it every table the
rebuild reads or compares — the log and the signed batches, kiosks, the registers and
catalog, the staff state the projection keeps (letters, tasks), the meta rows with the
projector's cursor, and the stored projection — from ONE snapshot of the store (on
PostgreSQL a REPEATABLE READ READ ONLY transaction, ``PostgresStore.read``), so the copy is
the database as it was at one moment while the server keeps running. SQLite's triggers are
dropped while the rows go in and created again after (a stored shift's counted lines are
copied as stored, not derived again from its event). Columns are named, so the column
order of the source does not matter; PostgreSQL's ``stock_moves.rowid`` identity column
becomes the SQLite row's rowid. Values are copied as they are — text as text, so the
comparison in SQLite orders it byte-wise whichever backend stored it, and a surrogate id
as the id the database gave it (the comparison ignores those: ``log.SURROGATE``).

Not copied (left empty): staff accounts and their secrets (tokens, enrolment codes,
lockouts) and what no projection reads (the audit log, the quarantine, the public rating's
wrong tries) — the copy is a file beside the data, removed by the rebuild when done.
"""

import re
import sqlite3
from pathlib import Path

from server.store.db import MigrationRefused, Store, open_store

#: tables left empty in the copy: no projection reads them
SKIPPED = frozenset({"staff", "staff_tokens", "staff_communities", "signin_lockouts", "enroll_codes", "audit_log",
                     "quarantine", "unstored_rejections", "voice_rate_failures"})
#: rows fetched from the source per round trip
COPY_ROWS = 5_000


def sqlite_copy(source: Store, dest: Path) -> None:
    """Copy the PostgreSQL store ``source`` (one snapshot of it) into a new SQLite database
    at ``dest``. (A SQLite server's database is copied by its online backup instead:
    ``server.store.log.scratch_copy``.)"""
    for p in dest.parent.glob(dest.name + "*"):
        p.unlink()
    open_store(dest).close()  # the schema, by the same migrations as a SQLite server's
    conn = sqlite3.connect(dest, isolation_level=None)  # foreign keys off: rows go in table by table
    try:
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        wanted = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        with source.read() as db:
            columns = _source_columns(db)
            version = db.sql.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None or version[0] != wanted:
                raise MigrationRefused(f"the database is at schema version {version[0] if version else 0},"
                                       f" this jifen-server's at {wanted}: check it with the jifen-server that migrated it")
            for table in tables:
                conn.execute(f'DELETE FROM "{table}"')  # rows the migrations put in: the copy has the source's
                if table not in SKIPPED:
                    _copy_table(db, conn, table, columns.get(table))
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _source_columns(db) -> dict[str, set[str]]:
    """Every table of the (PostgreSQL) source with its column names."""
    out: dict[str, set[str]] = {}
    for table, column in db.sql.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"):
        out.setdefault(table, set()).add(column)
    return out


def _copy_table(db, conn: sqlite3.Connection, table: str, source: set[str] | None) -> None:
    cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    if source is None or not set(cols) <= source:
        raise MigrationRefused(f"the database's table {table} lacks columns this jifen-server has:"
                               f" {sorted(set(cols) - (source or set()))}")
    rowid = "rowid" in source and "rowid" not in cols and _has_rowid(conn, table)
    if rowid:  # PostgreSQL's stock_moves.rowid: SQLite's own rowid in the copy
        cols = ["rowid", *cols]
    names = ", ".join(f'"{c}"' for c in cols)
    insert = f'INSERT INTO "{table}"({names}) VALUES ({", ".join("?" * len(cols))})'
    for rows in _rows(db, f'SELECT {names} FROM "{table}"'):
        conn.executemany(insert, rows)


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]
    return re.search(r"\)\s*WITHOUT\s+ROWID\s*;?\s*$", sql, re.I) is None


def _rows(db, sql: str):
    """The rows of ``sql`` in lists of up to ``COPY_ROWS``, through a PostgreSQL
    server-side cursor inside the snapshot, so a large table is never all in memory."""
    cur = db.sql.conn.cursor(name="jifen_snapshot_copy")
    cur.itersize = COPY_ROWS
    cur.execute(sql)
    try:
        while rows := cur.fetchmany(COPY_ROWS):
            yield [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    finally:
        cur.close()
