"""Queries on the ingest log (migration 18) and the projector's cursor.

The log is ``ingest_log``: one row per acknowledged batch, in acknowledgement order, naming
the ``batches`` row that holds its verbatim signed bytes. ``meta.projected`` is the last
position the ledger holds; the projector moves it in the same transaction as the rows it
writes. Scratch databases for a rebuild (``jifen-server reproject``) are opened here too:
the SQLite online backup of a SQLite database (on PostgreSQL, of the SQLite copy of one
snapshot that ``server.store.snapshot`` makes). The log's queries are in the
spelling both backends take (``server.store.dialect``).
"""

import sqlite3

import sqlite_utils
from collections.abc import Iterator
from pathlib import Path

from server.store.db import Store, open_store
from server.store.tx import Tx

PROJECTED = "projected"

#: the tables a projection writes, with the columns a rebuild compares (in a stable order)
LEDGER_TABLES: dict[str, str] = {
    "events": "SELECT id, kiosk, batch_seq, kseq, kind, at, received_at, resident, operator, shop, body, voided_by FROM events ORDER BY id",
    "postings": "SELECT id, event, account, amount, at FROM postings ORDER BY id",
    "balances": "SELECT account, points FROM balances WHERE points != 0 ORDER BY account",
    "stock_moves": "SELECT rowid, event, shop, sku, delta FROM stock_moves ORDER BY rowid",
    "stock": "SELECT shop, sku, qty FROM stock WHERE qty != 0 ORDER BY shop, sku",
    "award_counts": "SELECT card, rule, period, n FROM award_counts ORDER BY card, rule, period",
    "shift_counts": "SELECT closed_at, event, line, kiosk, operator, sku, expected, counted FROM shift_counts"
                    " ORDER BY closed_at, event, line",
    "task_claims": "SELECT claim, task, resident, kiosk, at, received_at, done_event, done_at FROM task_claims ORDER BY claim",
    "review_items": "SELECT r.id, r.kind, r.created_at, r.kiosk, r.event, r.resident, r.shop, r.detail FROM review_items r"
                    " JOIN events e ON e.id = r.event WHERE r.kind != 'voice_rating_refused' ORDER BY r.id",
}

#: the tables whose first compared column is an id the database assigns (a rowid; on PostgreSQL an
#: identity column, whose sequence a rolled-back write also moves): compared by the rest of
#: the row, in id order
SURROGATE = frozenset({"postings", "stock_moves", "review_items"})

#: what each letter's or request's item holds of its signed ``voice`` event, as stored, and
#: as the rebuilt events give it (``server.services.projector``: the rest of ``voice_items``
#: and ``voice_steps`` is staff state)
VOICE_ITEMS = "SELECT code, event, channel, category, resident, kiosk, text, at, received_at FROM voice_items ORDER BY code"
VOICE_FROM_EVENTS = ("SELECT json_extract(body, '$.code') AS code, id, json_extract(body, '$.channel'),"
                     " json_extract(body, '$.category'), resident, kiosk, json_extract(body, '$.text'), at, received_at"
                     " FROM events WHERE kind = 'voice' ORDER BY code")


def append(db: Tx, kiosk: str, seq: int, at: int) -> int:
    """Log one acknowledged batch; its position."""
    return db.sql.execute("INSERT INTO ingest_log(kiosk, seq, at) VALUES (?, ?, ?) RETURNING pos", [kiosk, seq, at]).fetchall()[0][0]


def head(db: Tx) -> int:
    """The last position logged (0 for an empty log)."""
    return db.sql.execute("SELECT coalesce(max(pos), 0) FROM ingest_log").fetchone()[0]


def projected(db: Tx) -> int:
    row = db.sql.execute("SELECT value FROM meta WHERE key = ?", [PROJECTED]).fetchone()
    return int(row[0]) if row else 0


def oldest_unprojected_at(db: Tx) -> int | None:
    """When the oldest batch logged and not yet projected was acknowledged (None: none waits)."""
    row = db.sql.execute("SELECT at FROM ingest_log WHERE pos > ? ORDER BY pos LIMIT 1", [projected(db)]).fetchone()
    return row[0] if row else None


def set_projected(db: Tx, pos: int) -> None:
    db.sql.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [PROJECTED, str(pos)])


def logged_after(db: Tx, after: int, limit: int) -> list[tuple[int, str, int, int, bytes, str]]:
    """(pos, kiosk, seq, at, body, shop) of up to ``limit`` logged batches after position
    ``after``, in log order. Central batches' shop is ''."""
    return db.sql.execute(
        """SELECT l.pos, l.kiosk, l.seq, l.at, b.body, coalesce(k.shop, '') FROM ingest_log l
           JOIN batches b ON b.kiosk = l.kiosk AND b.seq = l.seq LEFT JOIN kiosks k ON k.id = l.kiosk
           WHERE l.pos > ? ORDER BY l.pos LIMIT ?""", [after, limit]).fetchall()


def unprojected(db: Tx) -> set[tuple[str, int]]:
    """(kiosk, seq) of the batches acknowledged but not yet in the ledger."""
    return {(r[0], r[1]) for r in db.sql.execute(
        "SELECT kiosk, seq FROM ingest_log WHERE pos > (SELECT coalesce(CAST(value AS INTEGER), 0) FROM meta WHERE key = ?)",
        [PROJECTED])}


def projected_seqs(db: Tx, kiosks: list[str]) -> dict[str, int]:
    """Each kiosk's highest batch seq the ledger holds (kiosks with none left out)."""
    if not kiosks:
        return {}
    marks = ",".join("?" * len(kiosks))
    return {r[0]: r[1] for r in db.sql.execute(
        f"""SELECT kiosk, max(seq) FROM ingest_log WHERE kiosk IN ({marks})
            AND pos <= (SELECT coalesce(CAST(value AS INTEGER), 0) FROM meta WHERE key = ?) GROUP BY kiosk""",
        [*kiosks, PROJECTED])}


# ---------------------------------------------------------------- rebuilds


def ledger_rows(db: Tx, table: str) -> Iterator[tuple]:
    """The rows of one projected table, in the order a rebuild compares them."""
    yield from db.sql.execute(LEDGER_TABLES[table])


def voice_items(db: Tx) -> Iterator[tuple]:
    yield from db.sql.execute(VOICE_ITEMS)


def voice_from_events(db: Tx) -> Iterator[tuple]:
    yield from db.sql.execute(VOICE_FROM_EVENTS)


def scratch_copy(store_path: Path, scratch: Path) -> Store:
    """A copy of the database at ``store_path`` (SQLite's online backup, consistent while
    the server runs) at ``scratch``, with every projected table emptied and the cursor at 0:
    the starting point of a rebuild from the log."""
    for p in scratch.parent.glob(scratch.name + "*"):
        p.unlink()
    src = sqlite3.connect(store_path)
    dst = sqlite3.connect(scratch, isolation_level=None)  # foreign keys off: resolutions name emptied review items
    try:
        src.backup(dst)
        dst.execute("BEGIN IMMEDIATE")
        clear_projection(Tx(sqlite_utils.Database(dst)))
        dst.execute("COMMIT")
    finally:
        src.close()
        dst.close()
    return open_store(scratch)


def clear_projection(db: Tx) -> None:
    """Empty what the projector writes — the ledger tables, the review items it raised
    (those naming an event), the balance and stock feed rows — and move its cursor to 0.
    For a scratch copy only: resolutions there are left naming items that are gone."""
    for table in ("task_claims", "postings", "stock_moves", "shift_counts", "events", "balances", "stock", "award_counts"):
        db.sql.execute(f"DELETE FROM {table}")
    db.sql.execute("DELETE FROM review_items WHERE event IS NOT NULL")
    db.sql.execute("DELETE FROM feed WHERE kind IN ('balance', 'stock')")
    db.sql.execute("UPDATE batches SET feed = NULL")
    set_projected(db, 0)


#: the tables ``replace_ledger`` copies from a rebuild, in the order they are emptied
#: (``shift_counts`` is refilled by its trigger as the events go back in)
REPLACED = ("task_claims", "postings", "stock_moves", "events", "balances", "stock", "award_counts")


def replace_ledger(db: Tx, rebuilt: Tx) -> None:
    """Inside the caller's write transaction (SQLite: a rebuild runs there only): the ledger
    tables replaced by those of the rebuild ``rebuilt`` (review items and the residents'
    letters are kept as stored: staff act on them; their references to events are checked
    at commit, once the events are back under the same ids)."""
    db.sql.execute("PRAGMA defer_foreign_keys = ON")
    db.sql.execute("DELETE FROM shift_counts")
    for table in REPLACED:
        db.sql.execute(f"DELETE FROM {table}")
    for table in reversed(REPLACED):
        cur = rebuilt.sql.execute(f"SELECT * FROM {table}")
        marks = ",".join("?" * len(cur.description))
        while rows := cur.fetchmany(10_000):
            db.sql.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    set_projected(db, projected(rebuilt))


def task_ids(db: Tx) -> list[str]:
    """Every volunteer task (their feed rows follow their claims after a rebuild)."""
    return [r[0] for r in db.sql.execute("SELECT id FROM tasks ORDER BY n")]


def set_all_batches_feed(db: Tx, feed: int) -> None:
    """Every applied batch's effects are in the feed up to ``feed`` (after a rebuild)."""
    db.sql.execute("UPDATE batches SET feed = ? WHERE status = 'applied'", [feed])
