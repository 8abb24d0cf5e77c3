"""Queries behind the reports: the board, settlement, issued/spent, coverage and kiosk
health. Times are event times (``postings.at``), windows are [start, end) in UTC ms of a
local month (``sync.calendar.month_bounds``); the monthly sums (migration 13) are kept by
``catch_up``, the only write here, and read by month (``YYYY-MM``).

A void's meaning follows its target, found by the ``target`` field of the void's bytes.
"""

from schema.types import CENTRAL_KIOSK
from server.store.tx import Tx
from sync import kinds
from sync.board import rank
from sync.chunks import marks


def _target() -> str:
    """Join each event of a reversing kind (a void) to its target as ``t``. The tags are
    the registry's own identifiers, written into the SQL so the planner sees constants."""
    tags = kinds.tags(reverses=True)
    assert all(t.replace("_", "").isalpha() and t.islower() for t in tags), tags
    listed = ", ".join(f"'{t}'" for t in tags)
    return f"LEFT JOIN events t ON e.kind IN ({listed}) AND t.id = json_extract(e.body, '$.target')"
_CARD = "substr(p.account, 10)"  # after 'resident:'


def _in(values: tuple[str, ...]) -> str:
    return f"({marks(len(values))})"


# ---------------------------------------------------------------- month sums (migration 13)

#: a posting's local month (Asia/Shanghai: UTC+8 all year since 1991), as ``sync.calendar.local_month`` gives it
_MONTH = "strftime('%Y-%m', (p.at + 28800000) / 1000, 'unixepoch')"
_NEW = "p.id > ? AND p.id <= ?"


def sums_behind(db: Tx) -> bool:
    """Whether postings were stored after the month sums were last caught up, or a
    community's boards wait to be ranked again (``board_stale``, migration 17)."""
    mark = db.sql.execute("SELECT posting FROM sums_mark WHERE id = 1").fetchone()[0]
    return (db.sql.execute("SELECT 1 FROM postings WHERE id > ? LIMIT 1", [mark]).fetchone() is not None
            or db.sql.execute("SELECT 1 FROM board_stale LIMIT 1").fetchone() is not None)


#: each month sum table: its key columns and its counted columns
SUMS = {
    "flow_sums": (("month", "community", "kind", "target_kind", "rule"), ("n", "points")),
    "card_sums": (("month", "card"), ("board_n", "board_points", "seen")),
    "shop_sums": (("month", "shop", "kind", "target_kind"), ("n", "points")),
    "goods_sums": (("month", "shop", "sku"), ("qty", "points")),
}


def _sums_of(lo: int, hi: int) -> dict[str, tuple[str, list]]:
    """(SELECT, parameters) per month sum table: the sums of the postings with ``lo < id <= hi``,
    in the table's columns (``SUMS``). The one definition of what each sum holds: catching
    up adds them, the audit compares them."""
    board, out = kinds.tags(on_board=True), kinds.tags(hands_out_goods=True)
    reverses = kinds.tags(reverses=True)
    new = [lo, hi]
    on_board = f"(e.kind IN {_in(board)} OR t.kind IN {_in(board)})"
    # a redemption hands its lines out at its shop; a void of one takes them back
    back = f"e.kind IN {_in(reverses)}"
    return {
        "flow_sums": (f"""SELECT {_MONTH}, r.community, e.kind, coalesce(t.kind, ''),
                   coalesce(json_extract(e.body, '$.rule'), json_extract(t.body, '$.rule'), ''), count(*), sum(p.amount)
            FROM postings p JOIN events e ON e.id = p.event {_target()} JOIN residents r ON r.card = {_CARD}
            WHERE {_NEW} AND p.account LIKE 'resident:%' GROUP BY 1, 2, 3, 4, 5""", new),
        "card_sums": (f"""SELECT {_MONTH}, {_CARD}, sum(CASE WHEN {on_board} THEN 1 ELSE 0 END), sum(CASE WHEN {on_board} THEN p.amount ELSE 0 END),
                   sum(CASE WHEN e.resident = {_CARD} AND e.kiosk != ? THEN 1 ELSE 0 END)
            FROM postings p JOIN events e ON e.id = p.event {_target()}
            WHERE {_NEW} AND p.account LIKE 'resident:%' GROUP BY 1, 2""", [*board, *board, *board, *board, CENTRAL_KIOSK, *new]),
        "shop_sums": (f"""SELECT {_MONTH}, substr(p.account, 6), e.kind, coalesce(t.kind, ''), count(*), sum(p.amount)
            FROM postings p JOIN events e ON e.id = p.event {_target()}
            WHERE {_NEW} AND p.account LIKE 'shop:%' GROUP BY 1, 2, 3, 4""", new),
        "goods_sums": (f"""SELECT {_MONTH}, substr(p.account, 6), json_extract(i.value, '$.sku'),
                   sum(CASE WHEN {back} THEN -1 ELSE 1 END * CAST(json_extract(i.value, '$.qty') AS INTEGER)),
                   sum(CASE WHEN {back} THEN -1 ELSE 1 END * CAST(json_extract(i.value, '$.qty') AS INTEGER)
                       * CAST(json_extract(i.value, '$.price') AS INTEGER))
            FROM postings p JOIN events e ON e.id = p.event {_target()},
                 json_each(CASE WHEN {back} THEN t.body ELSE e.body END, '$.items') i
            WHERE {_NEW} AND p.account LIKE 'shop:%' AND (e.kind IN {_in(out)} OR t.kind IN {_in(out)}) GROUP BY 1, 2, 3""",
                       [*reverses, *reverses, *reverses, *new, *out, *out]),
    }


def _mark(db: Tx) -> int:
    return db.sql.execute("SELECT posting FROM sums_mark WHERE id = 1").fetchone()[0]


def catch_up(db: Tx) -> int:
    """Add every posting after the mark into the month sums and move the mark (inside the
    caller's write transaction); returns the number of postings added. A range of the
    postings' key: cost in the new postings only."""
    mark = _mark(db)
    top = db.sql.execute("SELECT coalesce(max(id), 0) FROM postings").fetchone()[0]
    if top <= mark:
        _rank_boards(db, set())
        return 0
    for table, (select, params) in _sums_of(mark, top).items():
        keys, counted = SUMS[table]
        db.sql.execute(
            f"""INSERT INTO {table}({', '.join(keys + counted)}) {select}
                ON CONFLICT({', '.join(keys)}) DO UPDATE SET {', '.join(f'{c} = {c} + excluded.{c}' for c in counted)}""",
            params)
    new = [mark, top]
    touched = db.sql.execute(
        f"""SELECT DISTINCT {_MONTH}, r.community FROM postings p JOIN residents r ON r.card = {_CARD}
            WHERE {_NEW} AND p.account LIKE 'resident:%'""", new).fetchall()
    _rank_boards(db, set(touched))
    db.sql.execute("UPDATE sums_mark SET posting = ? WHERE id = 1", [top])
    return top - mark


def sums_drift(db: Tx) -> list[tuple[str, tuple, tuple | None, tuple | None]]:
    """Where the month sums differ from the sums of the postings they cover (every posting
    up to the mark): (table, key, what the table holds, what the postings give; None for no
    row). ``flow_sums`` is compared with its communities added up, as a resident's points
    stay in the community they were summed in when the resident moves. Reads every posting."""
    out = []
    for table, (select, params) in _sums_of(0, _mark(db)).items():
        keys, counted = SUMS[table]
        with_d = f"WITH d({', '.join(keys + counted)}) AS ({select}) "
        if table == "flow_sums":
            keys = tuple(k for k in keys if k != "community")
        cols = f"{', '.join(keys)}, {', '.join(f'sum({c})' for c in counted)}"
        stored, derived = (f"SELECT {cols} FROM {src} GROUP BY {', '.join(keys)}" for src in (table, "d"))
        n = len(keys)
        held = {r[:n]: r[n:] for r in db.sql.execute(f"{with_d}{stored} EXCEPT {derived}", params).fetchall()}
        given = {r[:n]: r[n:] for r in db.sql.execute(f"{with_d}{derived} EXCEPT {stored}", params).fetchall()}
        out += [(table, key, held.get(key), given.get(key)) for key in sorted(held.keys() | given.keys())]
    return out


#: communities of one month to rank again above which the month's lines are read at once
WHOLE_MONTH = 8


def _rank_boards(db: Tx, touched: set[tuple[str, str]]) -> None:
    """Rank again the boards of ``touched`` (month, community) pairs and every month of the
    communities in ``board_stale`` (``sync.board.rank``: the one ranking), into ``board_ranks``."""
    stale = [r[0] for r in db.sql.execute("SELECT community FROM board_stale").fetchall()]
    if stale:
        months = [r[0] for r in db.sql.execute("SELECT DISTINCT month FROM flow_sums").fetchall()]
        touched |= {(m, c) for m in months for c in stale}
        db.sql.execute("DELETE FROM board_stale")
    by_month: dict[str, set[str]] = {}
    for month, community in touched:
        by_month.setdefault(month, set()).add(community)
    for month, communities in sorted(by_month.items()):
        if len(communities) > WHOLE_MONTH:  # one read of the month's lines beats a seek per resident
            lines: dict[str, list] = {c: [] for c in communities}
            for community, card, points in db.sql.execute(
                    f"""SELECT r.community, c.card, c.board_points FROM card_sums c {_RESIDENTS}
                        WHERE c.month = ? AND c.board_n > 0""", [month]).fetchall():
                if community in lines:
                    lines[community].append((card, points))
        else:
            lines = {c: db.sql.execute(
                """SELECT c.card, c.board_points FROM residents r INDEXED BY residents_community_status
                   JOIN card_sums c ON c.month = ? AND c.card = r.card WHERE r.community = ? AND c.board_n > 0""",
                [month, c]).fetchall() for c in communities}
        for community, earned in sorted(lines.items()):
            db.sql.execute("DELETE FROM board_ranks WHERE month = ? AND community = ?", [month, community])
            db.sql.executemany("INSERT INTO board_ranks(month, community, rank, card, points) VALUES (?, ?, ?, ?, ?)",
                                    [(month, community, rk, card, points) for rk, card, points in rank(earned)])


#: a month's residents joined to their community and name from the index alone (migration 13)
_RESIDENTS = "JOIN residents r INDEXED BY residents_card_community ON r.card = c.card"


def _communities(communities: list[str] | None, params: list) -> str:
    if communities is None:
        return ""
    params += communities
    return f"AND b.community IN ({marks(len(communities))})"


def board(db: Tx, month: str, communities: list[str] | None, offset: int = 0,
          limit: int = -1) -> list[tuple[str, int, str, str, int]]:
    """(community, rank, card, name, points) of the month's boards (``board_ranks``: points
    earned by events of the kinds on the board and voids of them), by community and rank,
    lines ``offset`` to ``offset + limit`` (every line: -1); tuples, as there may be a city of them."""
    params: list = [month]
    where = _communities(communities, params)
    sql = f"""SELECT b.community, b.rank, b.card, r.name, b.points FROM board_ranks b JOIN residents r ON r.card = b.card
              WHERE b.month = ? {where} ORDER BY b.community, b.rank, b.card"""
    if limit >= 0:
        return db.sql.execute(f"{sql} LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
    return db.sql.execute(sql, params).fetchall()[offset:]  # every line (neither database takes OFFSET alone)


def board_top(db: Tx, month: str, top: int) -> list[tuple[str, int, str, str, int]]:
    """The lines ranked ``top`` or better on every community's board of the month (at least
    the first ``top`` of each), as ``board`` gives them."""
    return db.sql.execute(
        """SELECT b.community, b.rank, b.card, r.name, b.points FROM board_ranks b JOIN residents r ON r.card = b.card
           WHERE b.month = ? AND b.rank <= ? ORDER BY b.community, b.rank, b.card""", [month, top]).fetchall()


def board_counts(db: Tx, month: str, communities: list[str] | None) -> dict[str, tuple[int, int]]:
    """Each community's (lines, points) on the month's board."""
    params: list = [month]
    where = _communities(communities, params)
    return {c: (n, pts) for c, n, pts in db.sql.execute(
        f"SELECT b.community, count(*), sum(b.points) FROM board_ranks b WHERE b.month = ? {where} GROUP BY b.community",
        params).fetchall()}


def resident_flows(db: Tx, month: str) -> list[dict]:
    """Resident-side postings in the month by community, event kind, void target kind and rule (``flow_sums``)."""
    return [r | {"target_kind": r["target_kind"] or None, "rule": r["rule"] or None} for r in db.sql.query(
        "SELECT community, kind, target_kind, rule, n, points FROM flow_sums WHERE month = ? ORDER BY 1, 2, 3, 4", [month])]


def flows_by_month(db: Tx, first: str, last: str, communities: list[str] | None) -> list[dict]:
    """Resident-side postings of the months ``first``..``last`` by month, event kind, void
    target kind and rule, over all of ``communities`` (every one, when None)."""
    where, params = "", [first, last]
    if communities is not None:
        where = f"AND community IN ({marks(len(communities))})"
        params += communities
    return [r | {"target_kind": r["target_kind"] or None, "rule": r["rule"] or None} for r in db.sql.query(
        f"""SELECT month, kind, target_kind, rule, sum(n) AS n, sum(points) AS points FROM flow_sums
            WHERE month >= ? AND month <= ? {where} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""", params)]


def shop_postings(db: Tx, month: str) -> dict[str, list[dict]]:
    """Postings to each ``shop:<id>`` in the month, by event kind and (for voids) target kind (``shop_sums``)."""
    out: dict[str, list[dict]] = {}
    for r in db.sql.query("SELECT shop, kind, target_kind, n, points FROM shop_sums WHERE month = ? ORDER BY 1, 2, 3", [month]):
        out.setdefault(r.pop("shop"), []).append(r | {"target_kind": r["target_kind"] or None})
    return out


def goods_handed_out(db: Tx, month: str) -> dict[str, list[dict]]:
    """Goods each shop's redemptions handed out in the month, net of voids (``goods_sums``)."""
    out: dict[str, list[dict]] = {}
    for r in db.sql.query("SELECT shop, sku, qty, points FROM goods_sums WHERE month = ? ORDER BY 1, 2", [month]):
        out.setdefault(r.pop("shop"), []).append(r)
    return out


def coverage(db: Tx, month: str) -> list[dict]:
    """Each community's residents (``residents_community_status`` alone) and how many of them
    a kiosk recorded something for in the month (``card_sums``)."""
    seen = dict(db.sql.execute(
        f"SELECT r.community, count(*) FROM card_sums c {_RESIDENTS} WHERE c.month = ? AND c.seen > 0 GROUP BY r.community",
        [month]).fetchall())
    return [r | {"seen_this_month": seen.get(r["community"], 0)} for r in db.sql.query(
        """SELECT c.id AS community, c.name, c.street,
                  (SELECT count(*) FROM residents r WHERE r.community = c.id) AS residents,
                  (SELECT count(*) FROM residents r WHERE r.community = c.id AND r.status = 'active') AS active,
                  (SELECT count(*) FROM residents r WHERE r.community = c.id AND r.status = 'retired') AS retired
           FROM communities c ORDER BY c.id""")]


def kiosk_rows(db: Tx, start: int, end: int) -> list[dict]:
    return list(db.sql.query(
        """SELECT k.id AS kiosk, k.shop, s.community, k.label, k.status, k.enrolled_at,
                  k.last_push_at, k.last_pull_at, k.clock_skew_ms, k.next_seq - 1 AS applied_batches,
                  (SELECT count(*) FROM batches b WHERE b.kiosk = k.id AND b.status = 'held') AS held_batches,
                  (SELECT count(*) FROM batches b WHERE b.kiosk = k.id AND b.applied_at >= ? AND b.applied_at < ?) AS batches_in_month,
                  (SELECT count(*) FROM quarantine q WHERE q.kiosk = k.id) AS quarantined,
                  (SELECT count(*) FROM review_items i WHERE i.kiosk = k.id AND i.kind = 'fork') AS forks,
                  (SELECT count(*) FROM review_items i WHERE i.kiosk = k.id AND i.status = 'open') AS open_reviews,
                  (SELECT max(e.received_at - e.at) FROM events e
                    WHERE e.kiosk = k.id AND e.batch_seq = k.next_seq - 1) AS last_batch_lag_ms
           FROM kiosks k JOIN shops s ON s.id = k.shop ORDER BY k.id""",
        [start, end],
    ))


def account_sum(db: Tx, account: str, start: int, end: int) -> int:
    return db.sql.execute(
        "SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ? AND at >= ? AND at < ?", [account, start, end]
    ).fetchone()[0]


def shift_closes(db: Tx, start: int, end: int) -> list[dict]:
    """The shift reports kiosks sent, closed in [start, end), newest first (events_kind_at)."""
    return list(db.sql.query(
        """SELECT e.id, e.kiosk, k.shop, s.community, e.at, e.operator, e.body
           FROM events e JOIN kiosks k ON k.id = e.kiosk JOIN shops s ON s.id = k.shop
           WHERE e.kind = 'shift_close' AND e.at >= ? AND e.at < ?
           ORDER BY e.at DESC, e.id""",
        [start, end],
    ))


def _kiosks_in(kiosks: list[str] | None, params: list) -> str:
    if kiosks is None:
        return ""
    params += kiosks
    return f"AND kiosk IN ({marks(len(kiosks))})"


def shift_lines(db: Tx, start: int, end: int, kiosks: list[str] | None, offset: int = 0,
                limit: int = -1) -> list[tuple[str, str, int, str | None, str, int, int]]:
    """(event, kiosk, closed_at, operator, sku, expected, counted) of the goods lines counted
    at the shift closes of [start, end) by ``kiosks`` (every kiosk: None), newest shift
    first, lines ``offset`` to ``offset + limit`` (all: -1): one range of ``shift_counts``
    (filled as each report is stored: migration 17); tuples, as there are 30,000 a month."""
    params: list = [start, end]
    where = _kiosks_in(kiosks, params)
    sql = f"""SELECT event, kiosk, closed_at, operator, sku, expected, counted FROM shift_counts
              WHERE closed_at >= ? AND closed_at < ? AND counted IS NOT NULL {where}"""
    if limit >= 0:
        return db.sql.execute(f"{sql} ORDER BY closed_at DESC, event, line LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
    rows = db.sql.execute(f"{sql} ORDER BY closed_at, event, line", params).fetchall()
    rows.sort(key=lambda r: -r[2])  # stable: newest first, each shift's lines in their order (SQL sorts it slower)
    return rows[offset:]


def shift_totals(db: Tx, start: int, end: int, kiosks: list[str] | None) -> dict[str, int]:
    """What ``shift_lines`` would list, counted: shifts, lines, lines with a difference, the net difference."""
    params: list = [start, end]
    where = _kiosks_in(kiosks, params)
    shifts, lines, differences, net = db.sql.execute(
        f"""SELECT count(DISTINCT event), count(*), coalesce(sum(CASE WHEN counted != expected THEN 1 ELSE 0 END), 0), coalesce(sum(counted - expected), 0)
            FROM shift_counts WHERE closed_at >= ? AND closed_at < ? AND counted IS NOT NULL {where}""", params).fetchone()
    return {"shifts": shifts, "lines": lines, "differences": differences, "net_diff": net}


def kiosk_places(db: Tx) -> dict[str, tuple[str, str]]:
    """Each kiosk's (shop, community)."""
    return {k: (shop, comm) for k, shop, comm in db.sql.execute(
        "SELECT k.id, k.shop, s.community FROM kiosks k JOIN shops s ON s.id = k.shop").fetchall()}


def fleet_gauges(db: Tx, silent_before: int) -> dict:
    """What /metrics reads at each scrape, in one pass per table: kiosks by status, active
    kiosks not heard from since ``silent_before``, batches applied and held, open review
    items, and the newest checkpoint's size and time."""
    by_status = {row["status"]: row["n"] for row in db.sql.query("SELECT status, count(*) AS n FROM kiosks GROUP BY status")}
    silent = db.sql.execute(
        """SELECT count(*) FROM kiosks WHERE status = 'active'
           AND coalesce(last_push_at, 0) < ? AND coalesce(last_pull_at, 0) < ?""", [silent_before, silent_before]
    ).fetchone()[0]
    batches = {row["status"]: row["n"] for row in db.sql.query("SELECT status, count(*) AS n FROM batches GROUP BY status")}
    reviews = db.sql.execute("SELECT count(*) FROM review_items WHERE status = 'open'").fetchone()[0]
    last = db.sql.execute("SELECT size, at FROM checkpoints ORDER BY n DESC LIMIT 1").fetchone()
    return {"kiosks": by_status, "silent": silent, "batches": batches, "open_reviews": reviews,
            "checkpoint_size": last[0] if last else 0, "checkpoint_at": last[1] if last else None}
