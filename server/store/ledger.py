"""Queries on the ledger: events, postings, the balance/stock/cap caches, review items.

The caches are only ever moved by deltas taken from the postings and stock moves written
in the same transaction, so they stay equal to the fold that ``audit`` recomputes.
"""

import json
from collections import defaultdict
from collections.abc import Iterable

from schema.types import CENTRAL_KIOSK
from server.store.chunked import rows_in
from server.store.tx import Tx, limit_clause
from sync.chunks import chunks, marks
from sync.ledger import Posting, StockMove, Target


# ---------------------------------------------------------------- reading the view


def known_event_ids(db: Tx, ids: Iterable[str]) -> set[str]:
    return {r[0] for r in rows_in(db, "SELECT id FROM events WHERE id IN ({})", list(ids))}


def void_targets(db: Tx, ids: Iterable[str]) -> dict[str, Target]:
    """The earlier events a batch's voids name, with the effects a void would undo."""
    out: dict[str, Target] = {}
    for ev in rows_in(db, "SELECT id, kind, kiosk, voided_by FROM events WHERE id IN ({})", list(ids)):
        postings = tuple(
            (r[0], r[1]) for r in db.sql.execute("SELECT account, amount FROM postings WHERE event = ? ORDER BY id", [ev[0]])
        )
        stock = tuple(
            (r[0], r[1], r[2])
            for r in db.sql.execute("SELECT shop, sku, delta FROM stock_moves WHERE event = ? ORDER BY rowid", [ev[0]])
        )
        out[ev[0]] = Target(kind=ev[1], kiosk=ev[2], postings=postings, stock=stock, voided=ev[3] is not None)
    return out


def event_residents(db: Tx, ids: Iterable[str]) -> dict[str, str | None]:
    """The resident each projected event of ``ids`` names (None: none); unknown ids left out."""
    return dict(rows_in(db, "SELECT id, resident FROM events WHERE id IN ({})", sorted(ids)))


def balances_of(db: Tx, accounts: Iterable[str]) -> dict[str, int]:
    return {r[0]: r[1] for r in rows_in(db, "SELECT account, points FROM balances WHERE account IN ({})", list(accounts))}


def stock_of(db: Tx, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out = {}
    for shop, sku in keys:
        row = db.sql.execute("SELECT qty FROM stock WHERE shop = ? AND sku = ?", [shop, sku]).fetchone()
        if row is not None:
            out[(shop, sku)] = row[0]
    return out


def award_counts_of(db: Tx, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    """Cap counters for many (card, rule, period) keys, 300 keys to a query."""
    keys = list(dict.fromkeys(keys))
    out = {}
    for chunk in chunks(keys, 300):
        values = ",".join("(?,?,?)" for _ in chunk)
        for r in db.sql.execute(
            f"WITH k(card, rule, period) AS (VALUES {values})"
            " SELECT a.card, a.rule, a.period, a.n FROM k JOIN award_counts a"
            " ON a.card = k.card AND a.rule = k.rule AND a.period = k.period",
            [v for key in chunk for v in key],
        ):
            out[(r[0], r[1], r[2])] = r[3]
    return out


def events_by_id(db: Tx, ids: Iterable[str]) -> list[dict]:
    """The stored rows of these events (those that exist), in no particular order."""
    found: list[dict] = []
    for chunk in chunks(list(ids)):
        found += db.sql.query(f"SELECT * FROM events WHERE id IN ({marks(len(chunk))})", chunk)
    return found


def resident_events_between(db: Tx, card: str, start: int, end: int, limit: int,
                            kind_and_rule: tuple[str, str | None] | None = None) -> list[dict]:
    """Up to ``limit`` of a resident's events with ``start <= at <= end``, oldest first;
    with ``kind_and_rule``, only the events of that kind under that rule."""
    where, params = "resident = ? AND at BETWEEN ? AND ?", [card, start, end]
    if kind_and_rule is not None:
        where += " AND kind = ? AND json_extract(body, '$.rule') = ?"
        params += kind_and_rule
    return list(db.sql.query(f"SELECT * FROM events WHERE {where} ORDER BY at, id LIMIT ?", [*params, limit]))


# ---------------------------------------------------------------- writing a plan


def insert_events(db: Tx, rows: list[dict]) -> None:
    db.sql.executemany(
        "INSERT INTO events(id, kiosk, batch_seq, kseq, kind, at, received_at, resident, operator, shop, body)"
        " VALUES (:id, :kiosk, :batch_seq, :kseq, :kind, :at, :received_at, :resident, :operator, :shop, :body)",
        rows,
    )


def insert_postings(db: Tx, postings: list[Posting], at_of: dict[str, int]) -> None:
    """Append postings and move the balance cache by the same amounts."""
    deltas: dict[str, int] = defaultdict(int)
    for p in postings:
        deltas[p.account] += p.amount
    insert_posting_rows(db, [(p.event, p.account, p.amount, at_of[p.event]) for p in postings], deltas)


def insert_posting_rows(db: Tx, rows: list[tuple[str, str, int, int]], deltas: dict[str, int]) -> None:
    """Append (event, account, amount, at) rows and move the balance cache by ``deltas``
    (their sums per account)."""
    db.sql.executemany("INSERT INTO postings(event, account, amount, at) VALUES (?, ?, ?, ?)", rows)
    db.sql.executemany(
        "INSERT INTO balances(account, points) VALUES (?, ?)"
        " ON CONFLICT(account) DO UPDATE SET points = points + excluded.points",
        sorted(deltas.items()),
    )


def insert_stock_moves(db: Tx, moves: list[StockMove]) -> None:
    """Append stock moves and move the stock cache by the same deltas."""
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for m in moves:
        deltas[(m.shop, m.sku)] += m.delta
    insert_stock_move_rows(db, [(m.event, m.shop, m.sku, m.delta) for m in moves], deltas)


def insert_stock_move_rows(db: Tx, rows: list[tuple[str, str, str, int]], deltas: dict[tuple[str, str], int]) -> None:
    """Append (event, shop, sku, delta) rows and move the stock cache by ``deltas``."""
    db.sql.executemany("INSERT INTO stock_moves(event, shop, sku, delta) VALUES (?, ?, ?, ?)", rows)
    db.sql.executemany(
        "INSERT INTO stock(shop, sku, qty) VALUES (?, ?, ?)"
        " ON CONFLICT(shop, sku) DO UPDATE SET qty = qty + excluded.qty",
        [(shop, sku, d) for (shop, sku), d in sorted(deltas.items())],
    )


def set_award_counts(db: Tx, counts: dict[tuple[str, str, str], int]) -> None:
    db.sql.executemany(
        "INSERT INTO award_counts(card, rule, period, n) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(card, rule, period) DO UPDATE SET n = excluded.n",
        [(*key, n) for key, n in counts.items()],
    )


def mark_voided_many(db: Tx, pairs: list[tuple[str, str]]) -> None:
    """(target, void) pairs: each target voided by its void, unless it already was."""
    db.sql.executemany("UPDATE events SET voided_by = ? WHERE id = ? AND voided_by IS NULL", [(by, t) for t, by in pairs])


def mark_voided(db: Tx, target: str, by: str) -> None:
    db.sql.execute("UPDATE events SET voided_by = ? WHERE id = ? AND voided_by IS NULL", [by, target])


# ---------------------------------------------------------------- review items


def insert_review(
    db: Tx, kind: str, at: int, kiosk: str | None, event: str | None, resident: str | None, shop: str | None, detail: dict
) -> int:
    cur = db.sql.execute(
        "INSERT INTO review_items(kind, created_at, kiosk, event, resident, shop, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [kind, at, kiosk, event, resident, shop, json.dumps(detail, ensure_ascii=False, sort_keys=True)],
    )
    return cur.fetchall()[0][0]


def insert_reviews(db: Tx, rows: list[tuple]) -> None:
    """(kind, at, kiosk, event, resident, shop, detail) rows, in order."""
    db.sql.executemany(
        "INSERT INTO review_items(kind, created_at, kiosk, event, resident, shop, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*r[:6], json.dumps(r[6], ensure_ascii=False, sort_keys=True)) for r in rows],
    )


def review_exists_since(db: Tx, kiosk: str, kind: str, since: int) -> bool:
    row = db.sql.execute(
        "SELECT 1 FROM review_items WHERE kiosk = ? AND kind = ? AND created_at >= ? LIMIT 1", [kiosk, kind, since]
    ).fetchone()
    return row is not None


def list_reviews(db: Tx, open_only: bool = False, kind: str | None = None, newest_first: bool = False,
                 before: int | None = None, limit: int = -1) -> list[dict]:
    """Review items by id (``review_items_status`` serves the open ones); ``newest_first``
    with ``before`` and ``limit`` pages through them."""
    conds, params = [], []
    if open_only:
        conds.append("status = 'open'")
    if kind:
        conds.append("kind = ?")
        params.append(kind)
    if before is not None:
        conds.append("id < ?")
        params.append(before)
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    order = "id DESC" if newest_first else "id"
    rows = list(db.sql.query(f"SELECT * FROM review_items {where} ORDER BY {order}{limit_clause(limit)}",
                             [*params, limit] if limit >= 0 else params))
    for r in rows:
        r["detail"] = json.loads(r["detail"])
    return rows


_ENTRY = ("SELECT p.id AS posting, p.amount, e.id AS event, e.kind, e.kiosk, e.shop, e.operator, e.at, e.received_at,"
          " e.body, e.voided_by FROM postings p JOIN events e ON e.id = p.event")


def resident_entries_page(db: Tx, account: str, before: int | None, limit: int) -> list[dict]:
    """Up to ``limit`` postings to ``account`` with their events, newest first, with posting
    ids below ``before`` (a backwards range on ``postings_account``)."""
    if before is None:
        return list(db.sql.query(f"{_ENTRY} WHERE p.account = ? ORDER BY p.id DESC LIMIT ?", [account, limit]))
    return list(db.sql.query(f"{_ENTRY} WHERE p.account = ? AND p.id < ? ORDER BY p.id DESC LIMIT ?", [account, before, limit]))


def resident_entries_of(db: Tx, account: str, events: list[str]) -> list[dict]:
    """The postings to ``account`` of these events, with their events (``postings_event``)."""
    out: list[dict] = []
    for chunk in chunks(list(dict.fromkeys(events))):
        out += db.sql.query(f"{_ENTRY} WHERE p.event IN ({marks(len(chunk))}) AND p.account = ? ORDER BY p.id", [*chunk, account])
    return out


def account_total_and_count(db: Tx, account: str) -> tuple[int, int]:
    """(sum, number) of the postings to ``account``."""
    total, n = db.sql.execute("SELECT coalesce(sum(amount), 0), count(*) FROM postings WHERE account = ?", [account]).fetchone()
    return total, n


def account_sum_after(db: Tx, account: str, posting: int) -> int:
    """What the postings to ``account`` after posting ``posting`` add up to."""
    return db.sql.execute("SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ? AND id > ?", [account, posting]).fetchone()[0]


def account_sum_through(db: Tx, account: str, posting: int) -> int:
    """The balance ``account`` had just after posting ``posting``."""
    return db.sql.execute("SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ? AND id <= ?", [account, posting]).fetchone()[0]


def reviews_of_resident(db: Tx, card: str, open_only: bool = True) -> list[dict]:
    """A resident's review items (``review_items_resident``, migration 11), newest first."""
    where = " AND status = 'open'" if open_only else ""
    rows = list(db.sql.query(f"SELECT * FROM review_items WHERE resident = ?{where} ORDER BY id DESC", [card]))
    for r in rows:
        r["detail"] = json.loads(r["detail"])
    return rows


def open_reviews_of_event(db: Tx, event: str) -> list[int]:
    """The ids of the open review items that name this event."""
    return [r[0] for r in db.sql.execute("SELECT id FROM review_items WHERE status = 'open' AND event = ? ORDER BY id", [event])]


def open_review_counts(db: Tx) -> dict[str, int]:
    """Open review items by kind (an index seek on ``review_items_status``)."""
    return dict(db.sql.execute("SELECT kind, count(*) FROM review_items WHERE status = 'open' GROUP BY kind").fetchall())


# ---------------------------------------------------------------- balances and audit


def account_total(db: Tx, account: str) -> int:
    return db.sql.execute("SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ?", [account]).fetchone()[0]


def recent_postings(db: Tx, account: str, limit: int = 20) -> list[dict]:
    return list(
        db.sql.query(
            "SELECT p.event, p.amount, p.at, e.kind, e.shop, e.voided_by FROM postings p JOIN events e ON e.id = p.event"
            " WHERE p.account = ? ORDER BY p.id DESC LIMIT ?",
            [account, limit],
        )
    )


def unbalanced_events(db: Tx) -> list[tuple[str, int]]:
    return db.sql.execute("SELECT event, sum(amount) FROM postings GROUP BY event HAVING sum(amount) != 0").fetchall()


def all_postings(db: Tx) -> Iterable[Posting]:
    for r in db.sql.execute("SELECT event, account, amount FROM postings ORDER BY id"):
        yield Posting(r[0], r[1], r[2])


def posting_count(db: Tx) -> int:
    return db.sql.execute("SELECT count(*) FROM postings").fetchone()[0]


def balance_cache(db: Tx) -> dict[str, int]:
    return {r[0]: r[1] for r in db.sql.execute("SELECT account, points FROM balances")}


def stock_cache(db: Tx) -> dict[tuple[str, str], int]:
    return {(r[0], r[1]): r[2] for r in db.sql.execute("SELECT shop, sku, qty FROM stock")}


def account_sums(db: Tx) -> dict[str, int]:
    """Each account's sum of postings: the fold over postings, done by SQLite."""
    return {r[0]: r[1] for r in db.sql.execute("SELECT account, sum(amount) FROM postings GROUP BY account")}


def stock_fold(db: Tx) -> dict[tuple[str, str], int]:
    return {(r[0], r[1]): r[2] for r in db.sql.execute("SELECT shop, sku, sum(delta) FROM stock_moves GROUP BY shop, sku")}


def event_ids_by_batch(db: Tx, kiosk: str | None = None) -> dict[tuple[str, int], list[str]]:
    """{(kiosk, batch seq): event ids in kiosk order} (one kiosk's, when named)."""
    out: dict[tuple[str, int], list[str]] = defaultdict(list)
    where, params = ("WHERE kiosk = ?", [kiosk]) if kiosk is not None else ("", [])
    for r in db.sql.execute(f"SELECT kiosk, batch_seq, id FROM events {where} ORDER BY kiosk, kseq", params):
        out[(r[0], r[1])].append(r[2])
    return out


def cards_with_central_events(db: Tx) -> set[str]:
    return {r[0] for r in db.sql.execute("SELECT DISTINCT resident FROM events WHERE kiosk = ? AND resident IS NOT NULL", [CENTRAL_KIOSK])}


def balance_around(db: Tx, account: str, event: str) -> tuple[int, int] | None:
    """(balance before, balance after) of ``account`` around ``event``'s postings to it, in
    posting order; None when the event posted nothing there."""
    first = db.sql.execute("SELECT min(id), sum(amount) FROM postings WHERE account = ? AND event = ?", [account, event]).fetchone()
    if first[0] is None:
        return None
    before = db.sql.execute("SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ? AND id < ?", [account, first[0]]).fetchone()[0]
    return before, before + first[1]
