"""Queries on reference data (communities, shops, residents, rules, goods, operators) and
the pull feed.

The feed keeps one row per entity; ``put_feed`` moves a row to a new, higher ``seq`` only
when its bytes change, so writing the same data twice is invisible to kiosks.
"""

from collections.abc import Iterable

from schema.feeds import DEFAULT_COUNTY, community_scope, county_scope

from server.store import log
from server.store.chunked import rows_in
from server.store.tx import Tx
from sync.chunks import chunks, marks
from sync.initials import initials, is_initials
from sync.ledger import GoodInfo, OperatorInfo, RuleInfo

TABLES = {
    "communities": "id",
    "shops": "id",
    "residents": "card",
    "rules": "code",
    "goods": "sku",
    "operators": "id",
    "kiosks": "id",
    "counties": "id",
}


def meta_value(db: Tx, key: str) -> str | None:
    row = db.sql.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta_value(db: Tx, key: str, value: str) -> None:
    db.sql.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value]
    )


def list_rows(db: Tx, table: str) -> list[dict]:
    key = TABLES[table]  # KeyError for anything else: table names are never user text
    return list(db.sql.query(f"SELECT * FROM {table} ORDER BY {key}"))


def row_by_key(db: Tx, table: str, key: str) -> dict | None:
    rows = list(db.sql.query(f"SELECT * FROM {table} WHERE {TABLES[table]} = ?", [key]))
    return rows[0] if rows else None


def rows_by_keys(db: Tx, table: str, keys: Iterable[str]) -> dict[str, dict]:
    """The rows of ``table`` with these keys (those that exist), by key, 500 keys to a query."""
    key = TABLES[table]
    out: dict[str, dict] = {}
    for chunk in chunks(list(dict.fromkeys(keys))):
        for r in db.sql.query(f"SELECT * FROM {table} WHERE {key} IN ({marks(len(chunk))})", chunk):
            out[r[key]] = r
    return out


def _searchable(table: str, row: dict) -> dict:
    """A resident row with the pinyin initials of its name (migration 11), searched by."""
    if table == "residents" and "name" in row:
        return row | {"initials": initials(row["name"])}
    return row


def insert_row(db: Tx, table: str, row: dict) -> None:
    row = _searchable(table, row)
    cols = list(row)
    db.sql.execute(f"INSERT INTO {table}({', '.join(cols)}) VALUES ({marks(len(cols))})", [row[c] for c in cols])


def update_row(db: Tx, table: str, row: dict) -> None:
    """Set the row's columns on the row with its key."""
    key = TABLES[table]
    row = _searchable(table, row)
    sets = [c for c in row if c != key]
    if table in ("residents", "shops") and "community" in row:
        old = db.sql.execute(f"SELECT community FROM {table} WHERE {key} = ?", [row[key]]).fetchone()
        if old is not None and old[0] != row["community"]:
            _moved_county(db)
    db.sql.execute(f"UPDATE {table} SET {', '.join(c + ' = ?' for c in sets)} WHERE {key} = ?", [*(row[c] for c in sets), row[key]])


def residents_matching(db: Tx, after: str, communities: list[str] | None, limit: int) -> list[dict]:
    """Up to ``limit`` residents with a card after ``after`` (in any of ``communities``, if given), by card."""
    where, params = "card > ?", [after]
    if communities is not None:
        where += f" AND community IN ({marks(len(communities))})"
        params += communities
    return list(db.sql.query(f"SELECT * FROM residents WHERE {where} ORDER BY card LIMIT ?", [*params, limit]))


def residents_found(db: Tx, text: str, communities: list[str] | None, limit: int) -> list[dict]:
    """Residents whose card is ``text`` (or starts with it), whose phone ends in it (four
    digits), whose pinyin initials start with it (Latin letters), or whose name starts with
    it; each an index seek (card: the key; phone: ``residents_phone_tail``; initials:
    ``residents_initials``; name: ``residents_name``), at most ``limit`` of each, in scope."""
    scope, params = "", []
    if communities is not None:
        scope = f" AND +community IN ({marks(len(communities))})"  # filter; the seek is the search's own index
        params = list(communities)
    found: list[tuple[str, list]] = []
    upper = text.upper()
    if text.isascii() and text.isalnum():
        found.append(("card >= ? AND card < ?", [upper, upper + "\uffff"]))
    if text.isdigit() and len(text) == 4:
        found.append(("substr(phone, -4) = ?", [text]))
    if is_initials(text):
        low = text.lower()
        found.append(("initials >= ? AND initials < ?", [low, low + "\uffff"]))
    if not text.isascii():
        found.append(("name >= ? AND name < ?", [text, text + "\uffff"]))
    out: dict[str, dict] = {}
    for where, values in found:
        for r in db.sql.query(f"SELECT * FROM residents WHERE {where}{scope} LIMIT ?", [*values, *params, limit]):
            out.setdefault(r["card"], r)
    return sorted(out.values(), key=lambda r: (r["name"], r["card"]))[:limit]


def existing_keys(db: Tx, table: str) -> set[str]:
    return {r[0] for r in db.sql.execute(f"SELECT {TABLES[table]} FROM {table}")}


def insert_missing(db: Tx, table: str, rows: list[dict]) -> int:
    """Insert rows whose key is not there yet; existing rows are left as they are."""
    if not rows:
        return 0
    rows = [_searchable(table, r) for r in rows]
    before = db.sql.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    cols = list(rows[0])
    db.sql.executemany(
        f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
        f" ON CONFLICT({TABLES[table]}) DO NOTHING",
        rows,
    )
    return db.sql.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before


def resident_statuses(db: Tx, cards: Iterable[str]) -> dict[str, str]:
    return dict(rows_in(db, "SELECT card, status FROM residents WHERE card IN ({})", list(cards)))


def rule_infos(db: Tx, codes: Iterable[str]) -> dict[str, RuleInfo]:
    """Each rule with every points value it has had (its applied changes' and its current)."""
    codes = list(codes)
    rows = rows_in(db, "SELECT code, kind, points, status, cap_day, cap_month FROM rules WHERE code IN ({})", codes)
    values: dict[str, set[int]] = {}
    for code, pts, previous in rows_in(db, "SELECT code, json_extract(fields, '$.points'), previous_points"
                                           " FROM rule_changes WHERE applied_at IS NOT NULL AND code IN ({})", codes):
        values.setdefault(code, set()).update(int(v) for v in (pts, previous) if v is not None)
    return {r[0]: RuleInfo(*r[1:], values=frozenset(values.get(r[0], ()))) for r in rows}


def operator_infos(db: Tx, ids: Iterable[str]) -> dict[str, OperatorInfo]:
    return {r[0]: OperatorInfo(*r[1:]) for r in rows_in(db, "SELECT id, shop, role, status FROM operators WHERE id IN ({})", list(ids))}


def good_infos(db: Tx, skus: Iterable[str]) -> dict[str, GoodInfo]:
    return {r[0]: GoodInfo(r[1], r[2]) for r in rows_in(db, "SELECT sku, price, status FROM goods WHERE sku IN ({})", list(skus))}


# ---------------------------------------------------------------- the pull feed


def feed_high_water(db: Tx) -> int:
    """The feed's highest seq, of an entity's row or a deletion row (``feed_left``): one
    sequence numbers both. Two index seeks, the larger taken here (no scalar max of two)."""
    rows, left = db.sql.execute("SELECT (SELECT coalesce(max(seq), 0) FROM feed),"
                                " (SELECT coalesce(max(seq), 0) FROM feed_left)").fetchone()
    return rows if rows >= left else left


def feed_data(db: Tx, kind: str, key: str) -> bytes | None:
    """The bytes of one feed row (None if there is no such row, or it is a deletion)."""
    row = db.sql.execute("SELECT data FROM feed WHERE kind = ? AND key = ?", [kind, key]).fetchone()
    return row[0] if row else None


def feed_keys(db: Tx, kind: str) -> list[str]:
    """The keys of every feed row of ``kind`` that holds a record (not a deletion), in order."""
    return [r[0] for r in db.sql.execute("SELECT key FROM feed WHERE kind = ? AND data IS NOT NULL ORDER BY key", [kind])]


def feed_keys_in(db: Tx, kind: str, scope: str) -> list[str]:
    """The keys of every feed row of ``kind`` under ``scope`` that holds a record, in order."""
    return [r[0] for r in db.sql.execute("SELECT key FROM feed WHERE kind = ? AND scope = ? AND data IS NOT NULL ORDER BY key",
                                         [kind, scope])]


def put_left(db: Tx, kind: str, rows: list[tuple[str, str]]) -> int:
    """A deletion row for each (key, scope): the entity left the view of that scope's
    kiosks. Numbered next in the feed's sequence, in the order given (a row already there
    for that key and scope moves up). Returns how many were written."""
    if not rows:
        return 0
    seq = feed_high_water(db)
    db.sql.executemany(
        "INSERT INTO feed_left(kind, key, scope, seq) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(kind, key, scope) DO UPDATE SET seq = excluded.seq",
        [(kind, key, scope, seq + i) for i, (key, scope) in enumerate(rows, start=1)],
    )
    return len(rows)


def touch_feed(db: Tx, kind: str, keys: list[str]) -> int:
    """Move the rows of ``kind`` with these keys to new seqs, data and scope unchanged: the
    kiosks that can newly see them (a shop that moved county or serves a community again)
    pull them, above any deletion row they saw before. Returns how many moved."""
    if not keys:
        return 0
    seq = feed_high_water(db)
    db.sql.executemany("UPDATE feed SET seq = ? WHERE kind = ? AND key = ?",
                       [(seq + i, kind, key) for i, key in enumerate(keys, start=1)])
    return len(keys)


def _left_behind(db: Tx, kind: str, moved: list[tuple[str, str, str]]) -> None:
    """For rows changing scope ((key, old scope, new scope)): a deletion row under the old
    scope, numbered below the row's new seq, so a kiosk that no longer sees it drops it."""
    put_left(db, kind, [(key, old) for key, old, new in moved if old != new])


def put_feed(db: Tx, kind: str, key: str, scope: str, data: bytes | None) -> bool:
    """Record an entity's newest state; True if the row moved (its bytes or scope changed).
    A row changing scope leaves a deletion row under its old one (``feed_left``)."""
    row = db.sql.execute("SELECT data, scope FROM feed WHERE kind = ? AND key = ?", [kind, key]).fetchone()
    if row is not None and row[0] == data and row[1] == scope:
        return False
    if row is not None:
        _left_behind(db, kind, [(key, row[1], scope)])
    seq = feed_high_water(db) + 1
    db.sql.execute(
        "INSERT INTO feed(kind, key, scope, seq, data) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(kind, key) DO UPDATE SET scope = excluded.scope, seq = excluded.seq, data = excluded.data",
        [kind, key, scope, seq, data],
    )
    return True


def put_feed_many(db: Tx, kind: str, rows: list[tuple[str, str, bytes | None]]) -> int:
    """``put_feed`` for many entities of one kind at once: (key, scope, data) rows, read in
    one query and written in one ``executemany``; unchanged rows keep their seq. Rows get
    new seqs in the order given. Returns how many rows moved."""
    if not rows:
        return 0
    current = {r[0]: (r[1], r[2]) for r in rows_in(
        db, "SELECT key, data, scope FROM feed WHERE kind = ? AND key IN ({})", [r[0] for r in rows], (kind,))}
    changed = [r for r in rows if current.get(r[0]) != (r[2], r[1])]
    _left_behind(db, kind, [(key, current[key][1], scope) for key, scope, _ in changed if key in current])
    seq = feed_high_water(db)
    db.sql.executemany(
        "INSERT INTO feed(kind, key, scope, seq, data) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(kind, key) DO UPDATE SET scope = excluded.scope, seq = excluded.seq, data = excluded.data",
        [(kind, key, scope, seq + i, data) for i, (key, scope, data) in enumerate(changed, start=1)],
    )
    return len(changed)


def changes_since(db: Tx, cursor: int, shop: str, limit: int, communities: Iterable[str] = (),
                  county: str = DEFAULT_COUNTY) -> list[tuple[str, str, int, bytes | None]]:
    """Up to ``limit`` feed rows after ``cursor`` visible to ``shop``: global, its own,
    those of the ``communities`` it serves, and its ``county``'s (the default county's are
    global); with the deletion rows (``feed_left``, data null) under those scopes."""
    scopes = list(dict.fromkeys(["", shop, county_scope(county), *(community_scope(c) for c in communities)]))
    where = f"seq > ? AND scope IN ({marks(len(scopes))})"
    return db.sql.execute(
        f"SELECT kind, key, seq, data FROM feed WHERE {where}"
        f" UNION ALL SELECT kind, key, seq, NULL AS data FROM feed_left WHERE {where} ORDER BY seq LIMIT ?",
        [cursor, *scopes, cursor, *scopes, limit],
    ).fetchall()


def served_communities(db: Tx, shop: str) -> list[str]:
    """The communities whose residents ``shop``'s kiosks mirror: those staff set
    (``shop_serves``) that are in the shop's county, else the shop's own community. A
    community moved to another county leaves the list; a deployment with no counties has
    every community in the default one."""
    rows = db.sql.execute(
        "SELECT s.community, coalesce(cc.county, '') FROM shop_serves s"
        " LEFT JOIN community_counties cc ON cc.community = s.community WHERE s.shop = ? ORDER BY s.community",
        [shop]).fetchall()
    own = db.sql.execute(
        "SELECT s.community, coalesce(cc.county, '') FROM shops s"
        " LEFT JOIN community_counties cc ON cc.community = s.community WHERE s.id = ?", [shop]).fetchone()
    if rows:
        home = own[1] if own else DEFAULT_COUNTY
        inside = [c for c, county in rows if county == home]
        if inside:
            return inside
    return [own[0]] if own else []


# ---------------------------------------------------------------- counties (migration 20)


def county_of_community(db: Tx, community: str) -> str:
    """The county ``community`` is in: ``''`` (the default county) unless staff put it in one."""
    row = db.sql.execute("SELECT county FROM community_counties WHERE community = ?", [community]).fetchone()
    return row[0] if row else DEFAULT_COUNTY


def county_of_shop(db: Tx, shop: str) -> str:
    """The county of ``shop``'s community: the county its kiosks mirror."""
    row = db.sql.execute("SELECT coalesce(cc.county, '') FROM shops s LEFT JOIN community_counties cc"
                         " ON cc.community = s.community WHERE s.id = ?", [shop]).fetchone()
    return row[0] if row else DEFAULT_COUNTY


def counties_of_cards(db: Tx, cards: Iterable[str]) -> set[str]:
    """The counties the residents ``cards`` live in (their communities')."""
    return {r[0] for r in rows_in(db, "SELECT DISTINCT coalesce(cc.county, '') FROM residents r LEFT JOIN community_counties cc"
                                      " ON cc.community = r.community WHERE r.card IN ({})", sorted(cards))}


def counties_of_shops(db: Tx, shops: Iterable[str]) -> set[str]:
    """The counties of the shops ``shops`` (their communities'); an unknown shop's is the default."""
    shops = sorted(shops)
    rows = rows_in(db, "SELECT s.id, coalesce(cc.county, '') FROM shops s LEFT JOIN community_counties cc"
                       " ON cc.community = s.community WHERE s.id IN ({})", shops)
    found = dict(rows)
    return {found.get(s, DEFAULT_COUNTY) for s in shops}


def counties_of_communities(db: Tx, communities: Iterable[str]) -> set[str]:
    communities = sorted(communities)
    found = dict(rows_in(db, "SELECT community, county FROM community_counties WHERE community IN ({})", communities))
    return {found.get(c, DEFAULT_COUNTY) for c in communities}


def county_ids(db: Tx) -> list[str]:
    """Every county a projector may be needed for: the default county ``''`` and each named one."""
    return [DEFAULT_COUNTY, *(r[0] for r in db.sql.execute("SELECT id FROM counties ORDER BY id"))]


def community_counties(db: Tx) -> dict[str, str]:
    """Every community's county (``''``: the default)."""
    return dict(db.sql.execute("SELECT c.id, coalesce(cc.county, '') FROM communities c"
                               " LEFT JOIN community_counties cc ON cc.community = c.id").fetchall())


def list_counties(db: Tx) -> list[dict]:
    """The named counties with how many communities each holds."""
    return list(db.sql.query("SELECT k.id, k.name, (SELECT count(*) FROM community_counties cc WHERE cc.county = k.id)"
                             " AS communities FROM counties k ORDER BY k.id"))


def communities_counted(db: Tx) -> list[dict]:
    """Every community with its county (``''``: the default), its active residents and its
    kiosks not revoked counted: two grouped counts (an index each), not one per community."""
    residents = dict(db.sql.execute("SELECT community, count(*) FROM residents WHERE status = 'active' GROUP BY community").fetchall())
    kiosks = dict(db.sql.execute("SELECT s.community, count(*) FROM kiosks k JOIN shops s ON s.id = k.shop"
                                 " WHERE k.status = 'active' GROUP BY s.community").fetchall())
    return [{"id": c, "name": name, "county": county, "residents": residents.get(c, 0), "kiosks": kiosks.get(c, 0)}
            for c, name, county in db.sql.execute("SELECT c.id, c.name, coalesce(cc.county, '') FROM communities c"
                                                  " LEFT JOIN community_counties cc ON cc.community = c.id ORDER BY c.id").fetchall()]


def put_county(db: Tx, county: str, name: str) -> str:
    """Add a county or rename it: ``added``, ``changed`` or ``unchanged``."""
    old = db.sql.execute("SELECT name FROM counties WHERE id = ?", [county]).fetchone()
    if old is not None and old[0] == name:
        return "unchanged"
    db.sql.execute("INSERT INTO counties(id, name) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                   [county, name])
    return "added" if old is None else "changed"


def county_exists(db: Tx, county: str) -> bool:
    return db.sql.execute("SELECT 1 FROM counties WHERE id = ?", [county]).fetchone() is not None


def _moved_county(db: Tx) -> None:
    """A resident, a shop or a community may have changed county: the batches waiting for
    projection touch every county from now on (``server.store.log.spread_pending``)."""
    log.spread_pending(db)


def set_community_county(db: Tx, community: str, county: str) -> None:
    """Put ``community`` in ``county`` (``''``: back in the default county); the batches
    waiting for projection then touch every county (``_moved_county``)."""
    _moved_county(db)
    if county == DEFAULT_COUNTY:
        db.sql.execute("DELETE FROM community_counties WHERE community = ?", [community])
    else:
        db.sql.execute("INSERT INTO community_counties(community, county) VALUES (?, ?)"
                       " ON CONFLICT(community) DO UPDATE SET county = excluded.county", [community, county])


def set_served_communities(db: Tx, shop: str, communities: list[str]) -> None:
    db.sql.execute("DELETE FROM shop_serves WHERE shop = ?", [shop])
    db.sql.executemany("INSERT INTO shop_serves(shop, community) VALUES (?, ?)", [(shop, c) for c in communities])


def operators_of_shop(db: Tx, shop: str) -> list[dict]:
    return list(db.sql.query("SELECT * FROM operators WHERE shop = ? ORDER BY id", [shop]))


def all_shop_ids(db: Tx) -> list[str]:
    return [r[0] for r in db.sql.execute("SELECT id FROM shops ORDER BY id")]


def resident_communities(db: Tx, cards: Iterable[str]) -> dict[str, str]:
    return dict(rows_in(db, "SELECT card, community FROM residents WHERE card IN ({})", list(cards)))
