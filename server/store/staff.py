"""Queries on staff accounts, their tokens and communities, the audit log, review
resolutions and scheduled rule changes (tables of migration 2).

Each function takes the database handed out by ``Store.read()`` / ``Store.write()``.
"""

import json

from schema.types import GENESIS
from server.store.tx import Tx
from sync.checkpoint import audit_row_hash


def staff_by_name(db: Tx, username: str) -> dict | None:
    # case-insensitive (usernames are ASCII): the index on lower(username) answers it
    rows = list(db.sql.query("SELECT * FROM staff WHERE lower(username) = lower(?)", [username]))
    if not rows:
        return None
    row = rows[0]
    row["communities"] = communities_of(db, username)
    return row


def communities_of(db: Tx, username: str) -> list[str]:
    return [r[0] for r in db.sql.execute("SELECT community FROM staff_communities WHERE username = ? ORDER BY community", [username])]


def list_staff(db: Tx) -> list[dict]:
    rows = list(db.sql.query("SELECT username, role, status, created_at FROM staff ORDER BY username"))
    for r in rows:
        r["communities"] = communities_of(db, r["username"])
    return rows


def staff_count(db: Tx) -> int:
    return db.sql.execute("SELECT count(*) FROM staff").fetchone()[0]


def insert_staff(db: Tx, username: str, role: str, password_hash: str, at: int, communities: list[str]) -> None:
    db.sql.execute(
        "INSERT INTO staff(username, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
        [username, role, password_hash, at],
    )
    db.sql.executemany(
        "INSERT INTO staff_communities(username, community) VALUES (?, ?)", [(username, c) for c in communities]
    )


def set_staff_status(db: Tx, username: str, status: str) -> None:
    db.sql.execute("UPDATE staff SET status = ? WHERE username = ?", [status, username])


def set_password_hash(db: Tx, username: str, password_hash: str) -> None:
    db.sql.execute("UPDATE staff SET password_hash = ? WHERE username = ?", [password_hash, username])


# ---------------------------------------------------------------- tokens


def insert_token(db: Tx, token_hash: str, username: str, at: int, expires_at: int) -> None:
    db.sql.execute(
        "INSERT INTO staff_tokens(token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
        [token_hash, username, at, expires_at],
    )


def token_by_hash(db: Tx, token_hash: str) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM staff_tokens WHERE token_hash = ?", [token_hash]))
    return rows[0] if rows else None


def revoke_token(db: Tx, token_hash: str, at: int) -> int:
    return db.sql.execute(
        "UPDATE staff_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL", [at, token_hash]
    ).rowcount


def revoke_tokens_of(db: Tx, username: str, at: int) -> int:
    return db.sql.execute(
        "UPDATE staff_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL", [at, username]
    ).rowcount


# ---------------------------------------------------------------- audit log


def append_audit(db: Tx, at: int, staff: str, action: str, subject: str | None, detail: dict) -> int:
    """Append one row, chained to the one before it (``sync.checkpoint.audit_row_hash``)."""
    last = db.sql.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[1] if last and last[1] else audit_chain_head(db)[1]  # rows from before version 8: chain over them
    row = {"id": (last[0] if last else 0) + 1, "at": at, "staff": staff, "action": action, "subject": subject,
           "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)}
    db.sql.execute(
        "INSERT INTO audit_log(id, at, staff, action, subject, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [row["id"], at, staff, action, subject, row["detail"], audit_row_hash(prev, row)],
    )
    return row["id"]


def audit_count_since(db: Tx, staff: str, action: str, since: int) -> int:
    """How many rows ``staff`` appended with ``action`` at or after ``since`` (an index range)."""
    return db.sql.execute("SELECT count(*) FROM audit_log WHERE staff = ? AND action = ? AND at >= ?",
                          [staff, action, since]).fetchone()[0]


def audit_chain_rows(db: Tx, after_id: int = 0, limit: int = 50_000) -> list[dict]:
    """Audit rows after ``after_id`` in id order, as stored (detail as its JSON text)."""
    return list(db.sql.query("SELECT id, at, staff, action, subject, detail, hash FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                             [after_id, limit]))


def audit_chain_head(db: Tx) -> tuple[int, str]:
    """(last id, chain hash) recomputed over every row: what a new row chains to."""
    head, last = GENESIS, 0
    while rows := audit_chain_rows(db, last):
        for r in rows:
            head, last = audit_row_hash(head, r), r["id"]
    return last, head


def _audit_where(staff: str | None, action: str | None, where: list[str], params: list) -> str:
    if staff:
        where.append("staff = ?")
        params.append(staff)
    if action:
        where.append("action = ?")
        params.append(action)
    return " AND ".join(where) or "1"


def audit_rows(db: Tx, staff: str | None = None, action: str | None = None, since_id: int = 0, limit: int = 1000) -> list[dict]:
    params = [since_id]
    rows = list(db.sql.query(f"SELECT * FROM audit_log WHERE {_audit_where(staff, action, ['id > ?'], params)} ORDER BY id LIMIT ?",
                             [*params, limit]))
    for r in rows:
        r["detail"] = json.loads(r["detail"])
    return rows


def audit_newest(db: Tx, staff: str | None, action: str | None, before: int | None, limit: int) -> list[dict]:
    """Up to ``limit`` rows with ids below ``before`` (all, when None), newest first: a
    backwards seek on the key, or on ``audit_log_staff`` / ``audit_log_action`` when filtered."""
    where, params = (["id < ?"], [before]) if before is not None else ([], [])
    rows = list(db.sql.query(f"SELECT * FROM audit_log WHERE {_audit_where(staff, action, where, params)} ORDER BY id DESC LIMIT ?",
                             [*params, limit]))
    for r in rows:
        r["detail"] = json.loads(r["detail"])
    return rows


def audit_count(db: Tx, staff: str | None, action: str | None) -> int:
    params: list = []
    return db.sql.execute(f"SELECT count(*) FROM audit_log WHERE {_audit_where(staff, action, [], params)}", params).fetchone()[0]


# ---------------------------------------------------------------- review items and resolutions


def review_by_id(db: Tx, item: int) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM review_items WHERE id = ?", [item]))
    if not rows:
        return None
    row = rows[0]
    row["detail"] = json.loads(row["detail"])
    return row


def close_review(db: Tx, item: int) -> bool:
    """The one conditional write that decides who resolves an item: True for the winner."""
    return db.sql.execute("UPDATE review_items SET status = 'resolved' WHERE id = ? AND status = 'open'", [item]).rowcount == 1


def insert_resolution(db: Tx, item: int, action: str, staff: str, at: int, note: str, points: int | None, event: str | None,
                      approved_by: str | None = None) -> None:
    db.sql.execute(
        "INSERT INTO resolutions(review, action, staff, at, note, points, event, approved_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [item, action, staff, at, note, points, event, approved_by],
    )


def insert_pending_resolution(db: Tx, item: int, action: str, points: int, bound: int, staff: str, at: int, note: str) -> bool:
    """Propose a resolution awaiting a second person; False when one already waits."""
    return db.sql.execute(
        "INSERT OR IGNORE INTO pending_resolutions(review, action, points, bound, staff, at, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [item, action, points, bound, staff, at, note],
    ).rowcount == 1


def pending_resolution_of(db: Tx, item: int) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM pending_resolutions WHERE review = ?", [item]))
    return rows[0] if rows else None


def delete_pending_resolution(db: Tx, item: int) -> bool:
    return db.sql.execute("DELETE FROM pending_resolutions WHERE review = ?", [item]).rowcount == 1


def resolution_of(db: Tx, item: int) -> dict | None:
    rows = list(db.sql.query("SELECT * FROM resolutions WHERE review = ?", [item]))
    return rows[0] if rows else None


# ---------------------------------------------------------------- rule changes


def insert_rule_change(db: Tx, code: str, effective_at: int, fields: dict, staff: str, at: int) -> int:
    cur = db.sql.execute(
        "INSERT INTO rule_changes(code, effective_at, fields, staff, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        [code, effective_at, json.dumps(fields, ensure_ascii=False, sort_keys=True), staff, at],
    )
    return cur.fetchall()[0][0]


def due_rule_changes(db: Tx, now: int) -> list[dict]:
    rows = list(db.sql.query(
        "SELECT * FROM rule_changes WHERE applied_at IS NULL AND effective_at <= ? ORDER BY effective_at, id", [now]
    ))
    for r in rows:
        r["fields"] = json.loads(r["fields"])
    return rows


def mark_rule_change_applied(db: Tx, change: int, at: int, previous_points: int | None = None) -> None:
    db.sql.execute("UPDATE rule_changes SET applied_at = ?, previous_points = ? WHERE id = ?", [at, previous_points, change])


def rule_changes_of(db: Tx, code: str) -> list[dict]:
    rows = list(db.sql.query("SELECT * FROM rule_changes WHERE code = ? ORDER BY id", [code]))
    for r in rows:
        r["fields"] = json.loads(r["fields"])
    return rows


# ---------------------------------------------------------------- sign-in lockouts


def insert_lockout(db: Tx, username: str | None, address: str, at: int, until: int, level: int, failures: int) -> None:
    db.sql.execute("INSERT INTO signin_lockouts(username, address, at, until, level, failures) VALUES (?, ?, ?, ?, ?, ?)",
                   [username, address, at, until, level, failures])


def lockout_until(db: Tx, username: str | None, address: str, now: int) -> int | None:
    """When the lock of this (username, address) pair (username None: the address) ends, if one holds at ``now``."""
    row = db.sql.execute("SELECT max(until) FROM signin_lockouts WHERE username IS ? AND address = ? AND until > ?",
                         [username, address, now]).fetchone()
    return row[0]


def recent_lockout_level(db: Tx, username: str | None, address: str, since: int) -> int:
    row = db.sql.execute("SELECT max(level) FROM signin_lockouts WHERE username IS ? AND address = ? AND at > ?",
                         [username, address, since]).fetchone()
    return row[0] or 0


def lockouts_since(db: Tx, since: int | None, now: int) -> list[dict]:
    """Lockouts in force at ``now``, or (``since`` given) every one locked after ``since``."""
    if since is None:
        return list(db.sql.query("SELECT * FROM signin_lockouts WHERE until > ? ORDER BY id DESC", [now]))
    return list(db.sql.query("SELECT * FROM signin_lockouts WHERE at > ? ORDER BY id DESC", [since]))
