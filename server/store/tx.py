"""The transaction type the store hands to services: ``Tx``.

``Store.read()`` yields one for a snapshot, ``Store.write()`` and ``write_grouped`` one
for a write transaction. Above the store a ``Tx`` is opaque: services pass it to the
store's query functions (``chain.insert_batch(tx, …)``) and never query it themselves,
so they do not know which database runs underneath — a second backend brings its own
``Tx`` and its own query modules, and the services stay as they are. Inside
``server.store``, ``sql`` is the sqlite-utils handle on the connection.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils


class Tx:
    """One read snapshot or one write transaction on the server database."""

    __slots__ = ("sql",)

    def __init__(self, sql: sqlite_utils.Database):
        self.sql = sql  # for server.store's query modules only

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested step of this transaction: if its block raises, only the step is undone."""
        with self.sql.atomic():
            yield
