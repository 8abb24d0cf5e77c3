"""Queries on kiosks, enrolment codes, stored batches and the quarantine.

Each function takes the database handed out by ``Store.read()`` / ``Store.write()``.
"""

import json

from schema.types import CENTRAL_KIOSK, GENESIS
from server.store.chunked import rows_in
from server.store.tx import Tx


def kiosk_by_id(db: Tx, kiosk: str) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM kiosks WHERE id = ?", [kiosk]))
    return rows[0] if rows else None


def kiosk_by_public_key(db: Tx, public_key: str) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM kiosks WHERE public_key = ?", [public_key]))
    return rows[0] if rows else None


def list_kiosks(db: Tx) -> list[dict]:
    return list(db.sql.query("SELECT * FROM kiosks ORDER BY id"))


def next_kiosk_id(db: Tx) -> str:
    """K0001, K0002, ... (the number grows past four digits if it must)."""
    row = db.sql.execute("SELECT max(CAST(substr(id, 2) AS INTEGER)) FROM kiosks").fetchone()
    return f"K{(row[0] or 0) + 1:04d}"


def insert_kiosk(db: Tx, kiosk: str, shop: str, label: str, public_key: str, at: int, trace: dict | None = None) -> None:
    """A newly enrolled kiosk and its first key; ``trace`` is that key's (``insert_key``)."""
    db.sql.execute(
        "INSERT INTO kiosks(id, shop, label, public_key, enrolled_at) VALUES (?, ?, ?, ?, ?)",
        [kiosk, shop, label, public_key, at],
    )
    insert_key(db, kiosk, public_key, 1, at, trace)


def insert_key(db: Tx, kiosk: str, public_key: str, from_seq: int, at: int, trace: dict | None) -> None:
    """One row of key history with its trace (migration 8): ``enroll_code`` (hash),
    ``rotation`` and ``rotation_signature``, and the server's ``sealed`` signature."""
    t = trace or {}
    db.sql.execute(
        """INSERT INTO kiosk_keys(kiosk, public_key, from_seq, added_at, enroll_code, rotation, rotation_signature, sealed)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [kiosk, public_key, from_seq, at, t.get("enroll_code"), t.get("rotation"), t.get("rotation_signature"), t.get("sealed")],
    )


# ---------------------------------------------------------------- key history


def key_history(db: Tx, kiosk: str) -> list[tuple[int, str]]:
    """(from_seq, public_key) of every key the kiosk has held, in the order added."""
    return [(r[0], r[1]) for r in db.sql.execute("SELECT from_seq, public_key FROM kiosk_keys WHERE kiosk = ? ORDER BY id", [kiosk])]


def key_rows(db: Tx, kiosk: str) -> list[dict]:
    return list(db.sql.query("SELECT * FROM kiosk_keys WHERE kiosk = ? ORDER BY id", [kiosk]))


def key_known(db: Tx, public_key: str) -> str | None:
    """The kiosk that holds or held ``public_key``, if any."""
    row = db.sql.execute("SELECT kiosk FROM kiosk_keys WHERE public_key = ?", [public_key]).fetchone()
    return row[0] if row else None


def with_keys(db: Tx, kiosk: dict | None) -> dict | None:
    """The kiosk row plus ``keys`` (its key history) when it ever rotated; a kiosk with one
    key (the usual case) costs no query."""
    if kiosk is not None and kiosk["key_from_seq"] > 1:
        kiosk["keys"] = key_history(db, kiosk["id"])
    return kiosk


def max_stored_seq(db: Tx, kiosk: str) -> int:
    return db.sql.execute("SELECT coalesce(max(seq), 0) FROM batches WHERE kiosk = ?", [kiosk]).fetchone()[0]


def set_kiosk_key(db: Tx, kiosk: str, public_key: str, from_seq: int, at: int, trace: dict | None = None) -> None:
    """Make ``public_key`` the kiosk's key from batch ``from_seq`` on; the old one is kept
    (retired) so the batches it signed still verify."""
    db.sql.execute("UPDATE kiosk_keys SET retired_at = ? WHERE kiosk = ? AND retired_at IS NULL", [at, kiosk])
    insert_key(db, kiosk, public_key, from_seq, at, trace)
    db.sql.execute("UPDATE kiosks SET public_key = ?, key_from_seq = ?, rekey_from = NULL WHERE id = ?", [public_key, from_seq, kiosk])


def set_rekey_from(db: Tx, kiosk: str, from_seq: int | None) -> None:
    db.sql.execute("UPDATE kiosks SET rekey_from = ? WHERE id = ?", [from_seq, kiosk])


def set_kiosk_status(db: Tx, kiosk: str, status: str) -> None:
    db.sql.execute("UPDATE kiosks SET status = ? WHERE id = ?", [status, kiosk])


def advance_kiosk_chain(db: Tx, kiosk: str, next_seq: int, last_hash: str, next_kseq: int, at: int) -> None:
    db.sql.execute(
        "UPDATE kiosks SET next_seq = ?, last_hash = ?, next_kseq = ?, last_push_at = ? WHERE id = ?",
        [next_seq, last_hash, next_kseq, at, kiosk],
    )


def record_push(db: Tx, kiosk: str, at: int) -> None:
    db.sql.execute("UPDATE kiosks SET last_push_at = ? WHERE id = ?", [at, kiosk])


#: a kiosk's pull is recorded (``record_pull``) at most this often: a kiosk syncing with
#: nothing new would otherwise make every pull a write transaction (the commit was most of a
#: no-op pull's server time), while what reads the record — the fleet report's ages, the
#: dashboard's and metrics' "silent for 24 h" — is none the worse for being 10 s behind
RECORD_PULL_EVERY_MS = 10_000


def pull_record_due(kiosk: dict, at: int) -> bool:
    """Must a pull at ``at`` by ``kiosk`` (its row as read) be recorded: is its last
    recorded pull missing, ``RECORD_PULL_EVERY_MS`` old or more, or (a clock set back)
    in the future?"""
    last = kiosk.get("last_pull_at")
    return last is None or not 0 <= at - last < RECORD_PULL_EVERY_MS


def record_pull(db: Tx, kiosk: str, at: int, skew_ms: int) -> None:
    db.sql.execute("UPDATE kiosks SET last_pull_at = ?, clock_skew_ms = ? WHERE id = ?", [at, skew_ms, kiosk])


def record_clock_skew(db: Tx, kiosk: str, skew_ms: int) -> None:
    db.sql.execute("UPDATE kiosks SET clock_skew_ms = ? WHERE id = ?", [skew_ms, kiosk])


# ---------------------------------------------------------------- enrolment codes


def insert_enroll_code(db: Tx, code_hash: str, shop: str, at: int, expires_at: int, rekey: str | None = None) -> None:
    db.sql.execute(
        "INSERT INTO enroll_codes(code_hash, shop, created_at, expires_at, rekey) VALUES (?, ?, ?, ?, ?)",
        [code_hash, shop, at, expires_at, rekey],
    )


def enroll_code_by_hash(db: Tx, code_hash: str) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM enroll_codes WHERE code_hash = ?", [code_hash]))
    return rows[0] if rows else None


def use_enroll_code(db: Tx, code_hash: str, at: int, kiosk: str) -> None:
    db.sql.execute("UPDATE enroll_codes SET used_at = ?, kiosk = ? WHERE code_hash = ?", [at, kiosk, code_hash])


# ---------------------------------------------------------------- batches


def batch_at(db: Tx, kiosk: str, seq: int) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM batches WHERE kiosk = ? AND seq = ?", [kiosk, seq]))
    return rows[0] if rows else None


def insert_batch(
    db: Tx, kiosk: str, seq: int, hash_: str, prev: str, body: bytes, signature: str, status: str, at: int,
    applied_at: int | None = None,
) -> None:
    """Store a batch's verbatim bytes; ``applied_at``: acknowledged in the same transaction
    (written with the row: an UPDATE that grows a row rewrites its body's overflow pages)."""
    db.sql.execute(
        "INSERT INTO batches(kiosk, seq, hash, prev, body, signature, status, received_at, applied_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [kiosk, seq, hash_, prev, body, signature, status, at, applied_at],
    )


def held_bytes(db: Tx, kiosk: str) -> int:
    """The bytes of a kiosk's batches held ahead of its chain (a gap before them)."""
    return db.sql.execute("SELECT coalesce(sum(length(body)), 0) FROM batches WHERE kiosk = ? AND status = 'held'",
                          [kiosk]).fetchone()[0]


def mark_batch_applied(db: Tx, kiosk: str, seq: int, at: int) -> None:
    db.sql.execute("UPDATE batches SET status = 'applied', applied_at = ? WHERE kiosk = ? AND seq = ?", [at, kiosk, seq])


def kiosk_shops(db: Tx, kiosks: list[str]) -> dict[str, str]:
    """kiosk id -> its shop, for the enrolled kiosks among ``kiosks``."""
    return dict(rows_in(db, "SELECT id, shop FROM kiosks WHERE id IN ({})", kiosks)) if kiosks else {}


def kiosks_without_feed(db: Tx, kind: str) -> list[str]:
    """The enrolled kiosks that have no feed row of ``kind`` (keyed by kiosk id)."""
    return [r[0] for r in db.sql.execute(
        "SELECT id FROM kiosks WHERE id NOT IN (SELECT key FROM feed WHERE kind = ?) ORDER BY id", [kind])]


def set_batches_feed(db: Tx, batches: list[tuple[str, int]], feed: int) -> None:
    """Record, for each (kiosk, seq), the feed sequence its effects were published under."""
    db.sql.executemany("UPDATE batches SET feed = ? WHERE kiosk = ? AND seq = ?", [(feed, k, s) for k, s in batches])


def delete_held_batch(db: Tx, kiosk: str, seq: int) -> None:
    db.sql.execute("DELETE FROM batches WHERE kiosk = ? AND seq = ? AND status = 'held'", [kiosk, seq])


def batches_in_order(db: Tx, kiosk: str | None = None) -> list[dict]:
    """Stored batches by kiosk and seq (one kiosk's, when named)."""
    if kiosk is not None:
        return list(db.sql.query("SELECT * FROM batches WHERE kiosk = ? ORDER BY seq", [kiosk]))
    return list(db.sql.query("SELECT * FROM batches ORDER BY kiosk, seq"))


def batch_kiosks(db: Tx) -> list[str]:
    """Every kiosk id some stored batch names."""
    return [r[0] for r in db.sql.execute("SELECT DISTINCT kiosk FROM batches ORDER BY kiosk")]


def central_head(db: Tx) -> tuple[int, str, int]:
    """(next seq, last hash, next event seq) of the server's own central chain."""
    row = db.sql.execute(
        "SELECT seq, hash FROM batches WHERE kiosk = ? ORDER BY seq DESC LIMIT 1", [CENTRAL_KIOSK]
    ).fetchone()
    n_events = db.sql.execute("SELECT count(*) FROM events WHERE kiosk = ?", [CENTRAL_KIOSK]).fetchone()[0]
    if row is None:
        return 1, GENESIS, n_events + 1
    return row[0] + 1, row[1], n_events + 1


# ---------------------------------------------------------------- quarantine


def insert_quarantine(
    db: Tx, kiosk: str | None, at: int, code: str, message: str, body: bytes, signature: str | None, headers: dict
) -> int:
    cur = db.sql.execute(
        "INSERT INTO quarantine(kiosk, received_at, code, message, body, signature, headers)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [kiosk, at, code, message, body, signature, json.dumps(headers, ensure_ascii=False, sort_keys=True)],
    )
    return cur.fetchall()[0][0]


#: what one quarantine row costs beside its body, in a kiosk's quarantine allowance
QUARANTINE_ROW_BYTES = 512


def quarantine_bytes(db: Tx, kiosk: str) -> int:
    """What a kiosk's quarantine holds: its bodies' bytes plus ``QUARANTINE_ROW_BYTES`` a row."""
    return db.sql.execute("SELECT coalesce(sum(length(body)), 0) + count(*) * ? FROM quarantine WHERE kiosk = ?",
                          [QUARANTINE_ROW_BYTES, kiosk]).fetchone()[0]


def count_unstored(db: Tx, kiosk: str, code: str, body_hash: str, size: int, at: int) -> None:
    """Count one refused request whose body is not kept: its size, hash and time."""
    db.sql.execute(
        """INSERT INTO unstored_rejections(kiosk, code, count, bytes, first_at, last_at, last_hash)
           VALUES (?, ?, 1, ?, ?, ?, ?)
           ON CONFLICT (kiosk, code) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes,
               last_at = excluded.last_at, last_hash = excluded.last_hash""",
        [kiosk, code, size, at, at, body_hash],
    )


def unstored_rows(db: Tx, kiosk: str | None = None) -> list[dict]:
    if kiosk is None:
        return list(db.sql.query("SELECT * FROM unstored_rejections ORDER BY kiosk, code"))
    return list(db.sql.query("SELECT * FROM unstored_rejections WHERE kiosk = ? ORDER BY code", [kiosk]))


def unstored_unreviewed(db: Tx) -> list[dict]:
    """Counters that grew since their last review item, each with its kiosk's shop."""
    return list(db.sql.query(
        """SELECT u.*, k.shop FROM unstored_rejections u LEFT JOIN kiosks k ON k.id = u.kiosk
           WHERE u.count > u.reviewed ORDER BY u.kiosk, u.code"""))


def mark_unstored_reviewed(db: Tx, kiosk: str, code: str, count: int) -> None:
    db.sql.execute("UPDATE unstored_rejections SET reviewed = ? WHERE kiosk = ? AND code = ?", [count, kiosk, code])


def quarantine_rows(db: Tx, kiosk: str | None = None) -> list[dict]:
    if kiosk is None:
        return list(db.sql.query("SELECT * FROM quarantine ORDER BY id"))
    return list(db.sql.query("SELECT * FROM quarantine WHERE kiosk = ? ORDER BY id", [kiosk]))


def quarantine_summary(db: Tx, quarantine: int) -> dict | None:
    """One quarantined request without its body: id, kiosk, received_at, code, message, size."""
    row = db.sql.execute("SELECT id, kiosk, received_at, code, message, length(body) FROM quarantine WHERE id = ?",
                     [quarantine]).fetchone()
    return dict(zip(("id", "kiosk", "received_at", "code", "message", "size"), row)) if row else None


def quarantine_groups_after(db: Tx, after: int) -> list[tuple[str | None, str, int, int, int, int, str | None]]:
    """Quarantine rows after id ``after`` (forks aside) grouped by kiosk and code:
    (kiosk, code, first id, last id, count, first received_at, kiosk's shop), oldest first."""
    return db.sql.execute(
        """SELECT q.kiosk, q.code, min(q.id), max(q.id), count(*), min(q.received_at), k.shop
           FROM quarantine q LEFT JOIN kiosks k ON k.id = q.kiosk
           WHERE q.id > ? AND q.code != 'fork' GROUP BY q.kiosk, q.code, k.shop ORDER BY min(q.id)""",
        [after],
    ).fetchall()


def quarantine_message(db: Tx, quarantine: int) -> str:
    return db.sql.execute("SELECT message FROM quarantine WHERE id = ?", [quarantine]).fetchone()[0]


def held_gaps(db: Tx, held_before: int) -> list[tuple[str, int, int, int, int, str]]:
    """Kiosks with batches held since before ``held_before``:
    (kiosk, first held seq, held count, first received_at, next_seq, shop)."""
    return db.sql.execute(
        """SELECT b.kiosk, min(b.seq), count(*), min(b.received_at), k.next_seq, k.shop
           FROM batches b JOIN kiosks k ON k.id = b.kiosk
           WHERE b.status = 'held' GROUP BY b.kiosk, k.next_seq, k.shop HAVING min(b.received_at) <= ?""",
        [held_before],
    ).fetchall()
