"""The server store: the only code that opens or queries the server database.

``Store`` owns the single writer connection, guarded by one lock, and hands out a ``Tx``
(``server.store.tx``) for snapshot reads and for write transactions (each ``BEGIN
IMMEDIATE``; ``write_grouped`` shares one commit among concurrent writers, ``write_keyed``
too for a write of one kiosk's rows, which on PostgreSQL other kiosks' need not wait for). The query
functions live in ``chain`` (kiosks, enrolment codes, batches, quarantine), ``ledger``
(events, postings, caches, review items), ``catalog`` (reference data, meta and the pull
feed), ``staff`` (staff, tokens, audit log, resolutions, rule changes), ``checkpoints``
(the checkpoint log) and ``reports``; each takes the ``Tx`` as its first argument and is
named for its query. Lists of keys go through ``chunked`` (``sync.chunks``). Services see only ``Tx`` and
these functions: import-linter keeps ``sqlite3``/``sqlite_utils``/``psycopg`` inside this package.
``open_store`` opens SQLite (a path) or PostgreSQL (a ``postgresql://`` URL, ``postgres``).
"""

from server.store.db import Store, open_store
from server.store.tx import Tx

__all__ = ["Store", "Tx", "open_store"]
