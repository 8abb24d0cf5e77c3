"""Queries over a list of keys: ``key IN (?, ?, …)`` run in chunks (``sync.chunks``).

SQLite caps the bound parameters of one statement; a batch names hundreds of residents
and events, so a lookup runs one query per ``CHUNK`` keys rather than one per key.
"""

from server.store.tx import Tx
from sync.chunks import chunks, marks


def rows_in(db: Tx, sql: str, values: list, first: tuple = ()) -> list[tuple]:
    """``sql`` with ``{}`` replaced by placeholders, run over ``values`` in chunks.
    ``first`` are parameters that come before the list."""
    rows: list[tuple] = []
    for chunk in chunks(values):
        rows.extend(db.sql.execute(sql.format(marks(len(chunk))), [*first, *chunk]).fetchall())
    return rows
