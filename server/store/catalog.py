"""Queries on reference data (communities, shops, residents, rules, goods, operators) and
the pull feed.

The feed keeps one row per entity; ``put_feed`` moves a row to a new, higher ``seq`` only
when its bytes change, so writing the same data twice is invisible to kiosks.
"""

from collections.abc import Iterable

from sqlite_utils import Database

from sync.ledger import GoodInfo, RuleInfo

TABLES = {
    "communities": "id",
    "shops": "id",
    "residents": "card",
    "rules": "code",
    "goods": "sku",
    "operators": "id",
    "kiosks": "id",
}


def meta_value(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta_value(db: Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value]
    )


def list_rows(db: Database, table: str) -> list[dict]:
    key = TABLES[table]  # KeyError for anything else: table names are never user text
    return list(db.query(f"SELECT * FROM {table} ORDER BY {key}"))


def row_by_key(db: Database, table: str, key: str) -> dict | None:
    rows = list(db.query(f"SELECT * FROM {table} WHERE {TABLES[table]} = ?", [key]))
    return rows[0] if rows else None


def existing_keys(db: Database, table: str) -> set[str]:
    return {r[0] for r in db.execute(f"SELECT {TABLES[table]} FROM {table}")}


def insert_missing(db: Database, table: str, rows: list[dict]) -> int:
    """Insert rows whose key is not there yet; existing rows are left as they are."""
    if not rows:
        return 0
    before = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    cols = list(rows[0])
    db.conn.executemany(
        f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
        f" ON CONFLICT({TABLES[table]}) DO NOTHING",
        rows,
    )
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before


def resident_statuses(db: Database, cards: Iterable[str]) -> dict[str, str]:
    return {c: r["status"] for c in cards if (r := row_by_key(db, "residents", c))}


def rule_infos(db: Database, codes: Iterable[str]) -> dict[str, RuleInfo]:
    out = {}
    for code in codes:
        r = row_by_key(db, "rules", code)
        if r:
            out[code] = RuleInfo(r["kind"], r["points"], r["status"], r["cap_day"], r["cap_month"])
    return out


def good_infos(db: Database, skus: Iterable[str]) -> dict[str, GoodInfo]:
    return {s: GoodInfo(r["price"], r["status"]) for s in skus if (r := row_by_key(db, "goods", s))}


# ---------------------------------------------------------------- the pull feed


def feed_high_water(db: Database) -> int:
    return db.execute("SELECT coalesce(max(seq), 0) FROM feed").fetchone()[0]


def put_feed(db: Database, kind: str, key: str, scope: str, data: bytes | None) -> bool:
    """Record an entity's newest state; True if the row moved (its bytes changed)."""
    row = db.execute("SELECT data, scope FROM feed WHERE kind = ? AND key = ?", [kind, key]).fetchone()
    if row is not None and row[0] == data and row[1] == scope:
        return False
    seq = feed_high_water(db) + 1
    db.execute(
        "INSERT INTO feed(kind, key, scope, seq, data) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(kind, key) DO UPDATE SET scope = excluded.scope, seq = excluded.seq, data = excluded.data",
        [kind, key, scope, seq, data],
    )
    return True


def changes_since(db: Database, cursor: int, shop: str, limit: int) -> list[tuple[str, str, int, bytes | None]]:
    """Up to ``limit`` feed rows after ``cursor`` visible to ``shop`` (global or its own)."""
    return db.execute(
        "SELECT kind, key, seq, data FROM feed WHERE seq > ? AND scope IN ('', ?) ORDER BY seq LIMIT ?",
        [cursor, shop, limit],
    ).fetchall()
