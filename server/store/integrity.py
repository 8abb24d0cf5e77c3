"""Queries behind the integrity checks (migration 8): the rows a checkpoint's state covers,
the sealed state and its row digests, key traces, the schema's triggers, and one kiosk's
batches with their stored effects, read a range at a time so an audit of millions of
events stays in bounded memory.
"""

from collections.abc import Iterator

from server.store.chunked import rows_in
from server.store.tx import Tx

#: table -> SELECT of (key, covered columns...). A key starts with the subject the audit log
#: names when it changes the row (a username, a review id, a shop or kiosk id), then ``\n``.
#: Bookkeeping columns (a code's ``used_at``, a key's ``retired_at``) are left out.
TRACKED: dict[str, str] = {
    "staff": "SELECT username, role, password_hash, status, created_at FROM staff",
    "staff_communities": "SELECT username || char(10) || community, username, community FROM staff_communities",
    "staff_tokens": "SELECT username || char(10) || token_hash, token_hash, username, created_at, expires_at, revoked_at FROM staff_tokens",
    "kiosk_keys": "SELECT kiosk || char(10) || id, id, kiosk, public_key, from_seq, added_at, enroll_code, sealed FROM kiosk_keys",
    "enroll_codes": "SELECT coalesce(rekey, shop) || char(10) || code_hash, code_hash, shop, created_at, expires_at, rekey FROM enroll_codes",
    "resolutions": "SELECT CAST(review AS TEXT), review, action, staff, at, note, points, event, approved_by FROM resolutions",
    "pending_resolutions": "SELECT CAST(review AS TEXT), review, action, points, bound, staff, at, note FROM pending_resolutions",
}


def tracked_rows(db: Tx, table: str) -> Iterator[tuple]:
    """(key, *covered values) of every row of ``table`` (one of ``TRACKED``)."""
    yield from db.sql.execute(TRACKED[table])


def sealed_rows(db: Tx) -> dict[str, dict[str, str]]:
    """The row digests of the newest sealed state: {table: {key: digest}}."""
    out: dict[str, dict[str, str]] = {t: {} for t in TRACKED}
    for tbl, key, digest in db.sql.execute("SELECT tbl, key, digest FROM checkpoint_rows"):
        out.setdefault(tbl, {})[key] = digest
    return out


def replace_sealed_rows(db: Tx, rows: dict[str, dict[str, str]]) -> None:
    db.sql.execute("DELETE FROM checkpoint_rows")
    db.sql.executemany("INSERT INTO checkpoint_rows(tbl, key, digest) VALUES (?, ?, ?)",
                       [(t, k, d) for t, keyed in rows.items() for k, d in keyed.items()])


def insert_state(db: Tx, n: int, body: bytes, signature: str) -> None:
    db.sql.execute("INSERT INTO checkpoint_states(n, body, signature) VALUES (?, ?, ?)", [n, body, signature])


def state_of(db: Tx, n: int) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM checkpoint_states WHERE n = ?", [n]))
    return rows[0] if rows else None


def states(db: Tx) -> list[dict]:
    return list(db.sql.query("SELECT * FROM checkpoint_states ORDER BY n"))


def audit_explanations(db: Tx, after_id: int) -> set[tuple[str, str]]:
    """(action, subject) of every audit row after ``after_id``."""
    return {(r[0], r[1] or "") for r in db.sql.execute("SELECT action, subject FROM audit_log WHERE id > ?", [after_id])}


def dialect(db: Tx) -> str:
    """``sqlite`` or ``postgresql``: which database ``db`` is a transaction on."""
    return db.sql.dialect


def triggers(db: Tx) -> dict[str, str]:
    """name -> SQL of every trigger in the schema, as SQLite keeps it; on PostgreSQL of every
    enabled trigger, its definition and its function's body (``… AS $$body$$``)."""
    if db.sql.dialect == "postgresql":
        return {r[0]: r[1] for r in db.sql.execute(
            "SELECT t.tgname, pg_get_triggerdef(t.oid) || ' AS $$' || p.prosrc || '$$' FROM pg_trigger t"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND t.tgenabled != 'D'")}
    return {r[0]: r[1] for r in db.sql.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}


def traces_from(db: Tx) -> int:
    """The first ``kiosk_keys`` id written with a trace (migration 8)."""
    row = db.sql.execute("SELECT value FROM meta WHERE key = 'key_traces_from'").fetchone()
    return int(row[0]) if row else 1


def all_key_rows(db: Tx) -> list[dict]:
    return list(db.sql.query("SELECT * FROM kiosk_keys ORDER BY kiosk, id"))


def enroll_codes(db: Tx) -> dict[str, dict]:
    return {r["code_hash"]: r for r in db.sql.query("SELECT * FROM enroll_codes")}


def kiosk_seq_range(db: Tx, kiosk: str) -> tuple[int, int]:
    row = db.sql.execute("SELECT coalesce(min(seq), 1), coalesce(max(seq), 0) FROM batches WHERE kiosk = ? AND status = 'applied'",
                         [kiosk]).fetchone()
    return row[0], row[1]


def applied_bodies(db: Tx, kiosk: str, lo: int, hi: int) -> list[tuple[int, bytes]]:
    return [(r[0], bytes(r[1])) for r in db.sql.execute(
        "SELECT seq, body FROM batches WHERE kiosk = ? AND status = 'applied' AND seq BETWEEN ? AND ? ORDER BY seq", [kiosk, lo, hi])]


def stored_postings(db: Tx, kiosk: str, lo: int, hi: int) -> list[tuple]:
    """(batch seq, posting id, event, account, amount) of a kiosk's batches lo..hi, in the order written."""
    return db.sql.execute(
        """SELECT e.batch_seq, p.id, p.event, p.account, p.amount FROM events e JOIN postings p ON p.event = e.id
           WHERE e.kiosk = ? AND e.batch_seq BETWEEN ? AND ? ORDER BY p.id""", [kiosk, lo, hi]).fetchall()


def stored_moves(db: Tx, kiosk: str, lo: int, hi: int) -> list[tuple]:
    """(batch seq, rowid, event, shop, sku, delta) of a kiosk's batches lo..hi, in the order written."""
    return db.sql.execute(
        """SELECT e.batch_seq, m.rowid, m.event, m.shop, m.sku, m.delta FROM events e JOIN stock_moves m ON m.event = e.id
           WHERE e.kiosk = ? AND e.batch_seq BETWEEN ? AND ? ORDER BY m.rowid""", [kiosk, lo, hi]).fetchall()


def voided_by(db: Tx, ids: list[str]) -> dict[str, str | None]:
    return {r[0]: r[1] for r in rows_in(db, "SELECT id, voided_by FROM events WHERE id IN ({})", ids)}


def award_values_applied(db: Tx, kiosk: str, lo: int, hi: int) -> dict[str, int]:
    """event id -> the points applied to an award whose recorded points matched no value its
    rule had (review items ``award_value_unknown`` of a kiosk's batches lo..hi), and 0 for a
    volunteer task's completion that did not count (``task_refused`` naming a ``task_done``)."""
    rows = db.sql.execute(
        """SELECT r.event, json_extract(r.detail, '$.applied') FROM review_items r JOIN events e ON e.id = r.event
           WHERE r.kind IN ('award_value_unknown', 'task_refused') AND e.kiosk = ? AND e.batch_seq BETWEEN ? AND ?""", [kiosk, lo, hi]).fetchall()
    return {ev: int(points) for ev, points in rows if points is not None}
