"""The server store: the only code that opens or queries the server database.

``Store`` owns the single connection, guarded by one lock, and hands it out for reads and
for write transactions (each ``BEGIN IMMEDIATE``). The query functions live in
``chain`` (kiosks, enrolment codes, batches, quarantine), ``ledger`` (events, postings,
caches, review items) and ``catalog`` (reference data and the pull feed); each takes the
connection handed out by ``Store`` as its first argument and is named for its query.
"""

from server.store.db import Store, open_store

__all__ = ["Store", "open_store"]
