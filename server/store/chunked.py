"""The one home for queries over a list of keys: ``key IN (?, ?, …)`` in chunks.

SQLite caps the bound parameters of one statement; a batch names hundreds of residents
and events, so a lookup runs one query per ``CHUNK`` keys rather than one per key.
"""

from collections.abc import Iterable

from server.store.tx import Tx

CHUNK = 500  # far below every SQLite default limit on bound parameters


def marks(n: int) -> str:
    """``?,?,…`` for ``n`` parameters."""
    return ",".join("?" * n)


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def rows_in(db: Tx, sql: str, values: list, first: tuple = ()) -> list[tuple]:
    """``sql`` with ``{}`` replaced by placeholders, run over ``values`` in chunks.
    ``first`` are parameters that come before the list."""
    rows: list[tuple] = []
    for chunk in chunks(values):
        rows.extend(db.sql.execute(sql.format(marks(len(chunk))), [*first, *chunk]).fetchall())
    return rows
