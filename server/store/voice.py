"""Queries on residents' letters and requests (``voice_items``) and their handling log
(``voice_steps``, appended only)."""

import json
from collections.abc import Iterable

from server.store.chunked import rows_in
from server.store.tx import Tx
from sync.postings import VoiceInfo

_COLUMNS = ("code, event, channel, category, resident, community, kiosk, shop, text, at, received_at, status, "
            "assignee, reply, replied_at, done_at, stars, rated_at, rating_event")


def insert_item(db: Tx, row: dict) -> None:
    cols = ", ".join(row)
    db.sql.execute(f"INSERT INTO voice_items({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def append_step(db: Tx, code: str, at: int, actor: str, step: str, detail: dict) -> int:
    cur = db.sql.execute("INSERT INTO voice_steps(code, at, actor, step, detail) VALUES (?, ?, ?, ?, ?) RETURNING id",
                         [code, at, actor, step, json.dumps(detail, ensure_ascii=False, sort_keys=True)])
    return cur.fetchall()[0][0]


def infos(db: Tx, codes: Iterable[str]) -> dict[str, VoiceInfo]:
    """What a rating needs to know of each item it names (``sync.kinds.voice_rating``)."""
    return {code: VoiceInfo(resident, status, stars) for code, resident, status, stars in
            rows_in(db, "SELECT code, resident, status, stars FROM voice_items WHERE code IN ({})", sorted(codes))}


def item(db: Tx, code: str) -> dict | None:
    rows = list(db.sql.query(f"SELECT {_COLUMNS} FROM voice_items WHERE code = ?", [code]))
    return rows[0] if rows else None


def set_state(db: Tx, code: str, expect: tuple[str, ...], **fields) -> bool:
    """Update an item's bookkeeping columns if its status is one of ``expect``; False if it
    was not (another staff member got there first), so the caller's transaction can refuse."""
    sets = ", ".join(f"{k} = ?" for k in fields)
    cur = db.sql.execute(f"UPDATE voice_items SET {sets} WHERE code = ? AND status IN ({', '.join('?' * len(expect))})",
                         [*fields.values(), code, *expect])
    return cur.rowcount == 1


def set_rating(db: Tx, code: str, stars: int, at: int, event: str) -> None:
    db.sql.execute("UPDATE voice_items SET stars = ?, rated_at = ?, rating_event = ? WHERE code = ? AND stars IS NULL",
                   [stars, at, event, code])


def public_failures(db: Tx, code: str) -> int:
    """How many wrong phone digits the public page was given for ``code``."""
    rows = list(db.sql.query("SELECT failures FROM voice_rate_failures WHERE code = ?", [code]))
    return rows[0]["failures"] if rows else 0


def add_public_failure(db: Tx, code: str) -> int:
    """Count one more wrong try for ``code``; the count now."""
    cur = db.sql.execute("INSERT INTO voice_rate_failures(code, failures) VALUES (?, 1)"
                         " ON CONFLICT(code) DO UPDATE SET failures = failures + 1 RETURNING failures", [code])
    return cur.fetchall()[0][0]


def steps(db: Tx, code: str) -> list[dict]:
    out = list(db.sql.query("SELECT id, code, at, actor, step, detail FROM voice_steps WHERE code = ? ORDER BY id", [code]))
    for r in out:
        r["detail"] = json.loads(r["detail"])
    return out


def list_items(db: Tx, communities: list[str] | None, status: str | None = None, channel: str | None = None,
               start: int | None = None, end: int | None = None, limit: int = 200) -> list[dict]:
    """Items newest first, filtered; ``communities`` None means every community."""
    where, args = [], []
    if communities is not None:
        if not communities:
            return []
        where.append(f"community IN ({', '.join('?' * len(communities))})")
        args += communities
    for col, value in (("status", status), ("channel", channel)):
        if value is not None:
            where.append(f"{col} = ?")
            args.append(value)
    if start is not None:
        where.append("at >= ?")
        args.append(start)
    if end is not None:
        where.append("at < ?")
        args.append(end)
    sql = f"SELECT {_COLUMNS} FROM voice_items {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY at DESC, code LIMIT ?"
    return list(db.sql.query(sql, [*args, limit]))


def month_items(db: Tx, start: int, end: int, communities: list[str] | None) -> list[dict]:
    """Every item received in [start, end) (by its recorded time), for the monthly report."""
    return list_items(db, communities, start=start, end=end, limit=10_000_000)


def items_of_resident(db: Tx, card: str) -> list[dict]:
    return list(db.sql.query(f"SELECT {_COLUMNS} FROM voice_items WHERE resident = ? ORDER BY at DESC", [card]))


def item_residents(db: Tx, codes: Iterable[str]) -> dict[str, str]:
    """The resident of each letter or request ``codes`` names (unknown codes left out)."""
    return dict(rows_in(db, "SELECT code, resident FROM voice_items WHERE code IN ({})", sorted(codes)))
