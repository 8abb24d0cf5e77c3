"""Queries on the ingest log (migration 18) and the projector's cursor.

The log is ``ingest_log``: one row per acknowledged batch, in acknowledgement order, naming
the ``batches`` row that holds its verbatim signed bytes, with the counties it touches
(``log_counties``, migration 25) and whether the ledger holds it yet (``projected``); a
projector marks its batches in the same transaction as the rows it writes. Scratch databases for a rebuild (``jifen-server reproject``) are opened here too:
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

#: the tables a projection writes, with the columns a rebuild compares (in a stable order)
LEDGER_TABLES: dict[str, str] = {
    "events": "SELECT id, kiosk, batch_seq, kseq, kind, at, received_at, resident, operator, shop, body, voided_by FROM events ORDER BY id",
    "postings": "SELECT id, event, account, amount, at FROM postings ORDER BY event, id",
    "balances": "SELECT account, points FROM balances WHERE points != 0 ORDER BY account",
    "stock_moves": "SELECT rowid, event, shop, sku, delta FROM stock_moves ORDER BY event, rowid",
    "stock": "SELECT shop, sku, qty FROM stock WHERE qty != 0 ORDER BY shop, sku",
    "award_counts": "SELECT card, rule, period, n FROM award_counts ORDER BY card, rule, period",
    "shift_counts": "SELECT closed_at, event, line, kiosk, operator, sku, expected, counted FROM shift_counts"
                    " ORDER BY closed_at, event, line",
    "task_claims": "SELECT claim, task, resident, kiosk, at, received_at, done_event, done_at FROM task_claims ORDER BY claim",
    "review_items": "SELECT r.id, r.kind, r.created_at, r.kiosk, r.event, r.resident, r.shop, r.detail FROM review_items r"
                    " JOIN events e ON e.id = r.event WHERE r.kind != 'voice_rating_refused' ORDER BY r.event, r.id",
}

#: the tables whose first compared column is an id the database assigns (a rowid; on PostgreSQL an
#: identity column, whose sequence a rolled-back write also moves): compared by the rest of
#: the row, event by event in id order (projectors of different counties write their
#: events' rows in their own order, a rebuild in log order)
SURROGATE = frozenset({"postings", "stock_moves", "review_items"})

#: what each letter's or request's item holds of its signed ``voice`` event, as stored, and
#: as the rebuilt events give it (``server.services.projector``: the rest of ``voice_items``
#: and ``voice_steps`` is staff state)
VOICE_ITEMS = "SELECT code, event, channel, category, resident, kiosk, text, at, received_at FROM voice_items ORDER BY code"
VOICE_FROM_EVENTS = ("SELECT json_extract(body, '$.code') AS code, id, json_extract(body, '$.channel'),"
                     " json_extract(body, '$.category'), resident, kiosk, json_extract(body, '$.text'), at, received_at"
                     " FROM events WHERE kind = 'voice' ORDER BY code")


#: the first position not yet projected (NULL: every logged batch is), as SQL both dialects take
FIRST_UNPROJECTED = "(SELECT min(pos) FROM ingest_log WHERE projected = 0)"

#: an ingest_log row ``l`` in the scope of the counties bound as ``{}`` (its batch names one
#: of them, or names none: a batch touching every county)
IN_SCOPE = ("(EXISTS (SELECT 1 FROM log_counties c WHERE c.pos = l.pos AND c.county IN ({}))"
            " OR NOT EXISTS (SELECT 1 FROM log_counties c WHERE c.pos = l.pos))")


def append(db: Tx, kiosk: str, seq: int, at: int, counties: set[str] | None = None) -> int:
    """Log one acknowledged batch; its position. ``counties``: those whose ledger state its
    projection reads or moves (``server.services.scopes``); None: every county (a central
    batch)."""
    pos = db.sql.execute("INSERT INTO ingest_log(kiosk, seq, at) VALUES (?, ?, ?) RETURNING pos", [kiosk, seq, at]).fetchall()[0][0]
    if counties is not None:
        db.sql.executemany("INSERT INTO log_counties(county, pos) VALUES (?, ?)", [(c, pos) for c in sorted(counties)])
    return pos


def head(db: Tx) -> int:
    """The last position logged (0 for an empty log)."""
    return db.sql.execute("SELECT coalesce(max(pos), 0) FROM ingest_log").fetchone()[0]


def projected(db: Tx) -> int:
    """The position the ledger holds the whole log up to: the last one below the first batch
    not yet projected (the head when every batch is). Projectors of different counties move
    past it batch by batch; below it nothing waits."""
    row = db.sql.execute(f"SELECT {FIRST_UNPROJECTED}, coalesce(max(pos), 0) FROM ingest_log").fetchone()
    return row[1] if row[0] is None else row[0] - 1


def oldest_unprojected_at(db: Tx) -> int | None:
    """When the oldest batch logged and not yet projected was acknowledged (None: none waits)."""
    row = db.sql.execute("SELECT at FROM ingest_log WHERE projected = 0 ORDER BY pos LIMIT 1").fetchone()
    return row[0] if row else None


def mark_projected(db: Tx, positions: list[int]) -> int:
    """Mark ``positions`` projected; how many were not yet (a projector that finds fewer
    than it folded lost a race and must not write its chunk)."""
    n = 0
    for i in range(0, len(positions), 500):
        part = positions[i:i + 500]
        cur = db.sql.execute(f"UPDATE ingest_log SET projected = 1 WHERE projected = 0 AND pos IN ({','.join('?' * len(part))})", part)
        n += cur.rowcount
    return n


def waiting_below(db: Tx, upto: int, counties: set[str] | None) -> int:
    """How many batches up to position ``upto`` in the scope of ``counties`` (None: of every
    county) are not projected: after a chunk is marked, 0, or the chunk jumped one it must
    follow (a push that committed after the chunk was read, or a batch of another county
    the chunk's cross-county batch must come after)."""
    if counties is None:
        return db.sql.execute("SELECT count(*) FROM ingest_log WHERE projected = 0 AND pos <= ?", [upto]).fetchone()[0]
    marks = ",".join("?" * len(counties))
    return db.sql.execute(f"SELECT count(*) FROM ingest_log l WHERE l.projected = 0 AND l.pos <= ? AND {IN_SCOPE.format(marks)}",
                          [upto, *sorted(counties)]).fetchone()[0]


def set_all_projected(db: Tx, upto: int) -> None:
    """Every batch up to ``upto`` projected, every one after it not (a rebuild's cursor)."""
    db.sql.execute("UPDATE ingest_log SET projected = CASE WHEN pos <= ? THEN 1 ELSE 0 END", [upto])


_LOGGED = """SELECT l.pos, l.kiosk, l.seq, l.at, b.body, coalesce(k.shop, '') FROM ingest_log l
           JOIN batches b ON b.kiosk = l.kiosk AND b.seq = l.seq LEFT JOIN kiosks k ON k.id = l.kiosk"""


def logged_after(db: Tx, after: int, limit: int) -> list[tuple[int, str, int, int, bytes, str]]:
    """(pos, kiosk, seq, at, body, shop) of up to ``limit`` batches not yet projected after
    position ``after``, in log order. Central batches' shop is ''."""
    return db.sql.execute(f"{_LOGGED} WHERE l.pos > ? AND l.projected = 0 ORDER BY l.pos LIMIT ?", [after, limit]).fetchall()


def scope_after(db: Tx, county: str, after: int, upto: int, limit: int) -> list[tuple[int, str, int, int, bytes, str]]:
    """As ``logged_after``, the batches in ``county``'s scope only, up to position ``upto``."""
    return db.sql.execute(f"{_LOGGED} WHERE l.pos > ? AND l.pos <= ? AND l.projected = 0 AND {IN_SCOPE.format('?')}"
                          " ORDER BY l.pos LIMIT ?", [after, upto, county, limit]).fetchall()


def counties_of(db: Tx, positions: list[int]) -> dict[int, frozenset[str] | None]:
    """The counties each logged position names (None: it names none, so every county)."""
    out: dict[int, set[str]] = {}
    for i in range(0, len(positions), 500):
        part = positions[i:i + 500]
        for pos, county in db.sql.execute(f"SELECT pos, county FROM log_counties WHERE pos IN ({','.join('?' * len(part))})", part):
            out.setdefault(pos, set()).add(county)
    return {p: (frozenset(out[p]) if p in out else None) for p in positions}


def pending_counties(db: Tx) -> tuple[list[str], bool]:
    """The counties with a batch waiting for projection, and whether a batch touching every
    county waits."""
    named = [r[0] for r in db.sql.execute(
        "SELECT DISTINCT c.county FROM log_counties c JOIN ingest_log l ON l.pos = c.pos WHERE l.projected = 0 ORDER BY c.county")]
    every = db.sql.execute("SELECT 1 FROM ingest_log l WHERE l.projected = 0 AND NOT EXISTS"
                           " (SELECT 1 FROM log_counties c WHERE c.pos = l.pos) LIMIT 1").fetchone() is not None
    return named, every


def kiosk_pending_counties(db: Tx, kiosk: str) -> set[str] | None:
    """The counties the kiosk's batches waiting for projection name (None: one names none)."""
    out: set[str] = set()
    for pos, county in db.sql.execute("SELECT l.pos, c.county FROM ingest_log l LEFT JOIN log_counties c ON c.pos = l.pos"
                                      " WHERE l.pos IN (SELECT pos FROM ingest_log WHERE projected = 0) AND l.kiosk = ?",
                                      [kiosk]):  # from the waiting batches, not from every batch of the kiosk
        if county is None:
            return None
        out.add(county)
    return out


def spread_pending(db: Tx) -> int:
    """Make every batch waiting for projection touch every county (a community or a shop
    moved county, or a resident community: the counties named when they were logged may no
    longer hold what they touch, and every county's projector must take them in log order);
    how many."""
    return db.sql.execute("DELETE FROM log_counties WHERE pos IN (SELECT pos FROM ingest_log WHERE projected = 0)").rowcount


def unprojected(db: Tx) -> set[tuple[str, int]]:
    """(kiosk, seq) of the batches acknowledged but not yet in the ledger."""
    return {(r[0], r[1]) for r in db.sql.execute("SELECT kiosk, seq FROM ingest_log WHERE projected = 0")}


def projected_seqs(db: Tx, kiosks: list[str]) -> dict[str, int]:
    """Each kiosk's highest batch seq the ledger holds (kiosks with none left out). A
    kiosk's batches are in its county's scope, projected in order, so they are a prefix."""
    if not kiosks:
        return {}
    marks = ",".join("?" * len(kiosks))
    return {r[0]: r[1] for r in db.sql.execute(
        f"SELECT kiosk, max(seq) FROM ingest_log WHERE kiosk IN ({marks}) AND projected = 1 GROUP BY kiosk", kiosks)}


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
    set_all_projected(db, 0)


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
    set_all_projected(db, projected(rebuilt))


def task_ids(db: Tx) -> list[str]:
    """Every volunteer task (their feed rows follow their claims after a rebuild)."""
    return [r[0] for r in db.sql.execute("SELECT id FROM tasks ORDER BY n")]


def set_all_batches_feed(db: Tx, feed: int) -> None:
    """Every applied batch's effects are in the feed up to ``feed`` (after a rebuild)."""
    db.sql.execute("UPDATE batches SET feed = ? WHERE status = 'applied'", [feed])
