"""The invariants every fault suite checks once the dust settles, computed independently of
the server's own ledger code: from the kiosks' recorded events and the server's stored
event bytes, with a fold written here rather than imported from ``sync.ledger``."""

import sqlite3
from contextlib import closing
from collections import defaultdict
from pathlib import Path

import msgspec

_ANY = msgspec.json.Decoder()


def _effects(ev: dict, shop: str | None) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """(points per card, stock per (shop, sku)) of one non-void event body."""
    kind = ev["type"]
    if kind == "award":
        return {ev["resident"]: ev["points"]}, {}
    if kind == "adjust":
        return {ev["resident"]: ev["points"]}, {}
    if kind == "redeem":
        return {ev["resident"]: -ev["total"]}, {(shop, i["sku"]): -i["qty"] for i in ev["items"]}
    if kind == "stock_in":
        return {}, {(shop, i["sku"]): i["qty"] for i in ev["items"]}
    if kind == "stock_adjust":
        return {}, {(ev["shop"], ev["sku"]): ev["delta"]}
    raise AssertionError(kind)


def replay(rows: list[tuple]) -> dict:
    """Fold (id, kiosk, shop, body) rows in the order the server applied them.

    Returns balances per card, stock per (shop, sku), and the overdrafts and negative stock
    lines that each redeem left behind at the moment it was applied.
    """
    balances: dict[str, int] = defaultdict(int)
    stock: dict[tuple[str, str], int] = defaultdict(int)
    applied: dict[str, tuple[str, dict, dict]] = {}  # id -> (kiosk, points, stock)
    reversed_: set[str] = set()
    overdrafts, negative = set(), set()
    for eid, kiosk, shop, body in rows:
        ev = _ANY.decode(body)
        if ev["type"] == "void":
            t = applied.get(ev["target"])
            if t is None or t[0] != kiosk or ev["target"] in reversed_:
                continue  # the server reviews these and changes nothing
            reversed_.add(ev["target"])
            points, moves = {c: -p for c, p in t[1].items()}, {k: -q for k, q in t[2].items()}
        else:
            points, moves = _effects(ev, shop)
            applied[eid] = (kiosk, points, moves)
        for c, p in points.items():
            balances[c] += p
        for k, q in moves.items():
            stock[k] += q
        if ev["type"] == "redeem":
            if balances[ev["resident"]] < 0:
                overdrafts.add(eid)
            for k in moves:
                if stock[k] < 0:
                    negative.add((eid, k[1]))
    return {"balances": dict(balances), "stock": dict(stock), "overdrafts": overdrafts, "negative": negative}


#: every event in the order the server applied them: SQLite's insertion order; PostgreSQL has
#: no rowid, so the order of the ingest log (batches) and, within a batch, of the kiosk's events
APPLIED_ORDER = {
    "sqlite": "SELECT id, kiosk, shop, body FROM events ORDER BY rowid",
    "postgresql": "SELECT e.id, e.kiosk, e.shop, e.body FROM events e JOIN ingest_log l ON l.kiosk = e.kiosk"
                  " AND l.seq = e.batch_seq ORDER BY l.pos, e.kseq",
}


def server_rows(db: sqlite3.Connection) -> list[tuple]:
    """Every event the server holds, in the order it applied them."""
    return [(r[0], r[1], r[2], bytes(r[3])) for r in db.execute(APPLIED_ORDER[getattr(db, "dialect", "sqlite")])]


def check_server(db: sqlite3.Connection, kiosk_events: dict[str, dict[str, bytes]]) -> list[str]:
    """Problems found on the server, given each kiosk's recorded events (id -> bytes)."""
    problems = []
    rows = server_rows(db)
    by_kiosk: dict[str, dict[str, bytes]] = defaultdict(dict)
    for eid, kiosk, _, body in rows:
        if eid in by_kiosk[kiosk]:
            problems.append(f"event {eid} stored twice")
        by_kiosk[kiosk][eid] = body
    for kiosk, events in kiosk_events.items():
        held = by_kiosk.get(kiosk, {})
        missing = sorted(set(events) - set(held))
        extra = sorted(set(held) - set(events))
        changed = sorted(e for e in set(events) & set(held) if events[e] != held[e])
        if missing or extra or changed:
            problems.append(f"kiosk {kiosk}: missing {missing[:5]}, unknown {extra[:5]}, altered {changed[:5]}")
    want = replay(rows)
    got_bal = {r[0].removeprefix("resident:"): r[1] for r in db.execute("SELECT account, points FROM balances WHERE account LIKE 'resident:%'")}
    fold = {r[0].removeprefix("resident:"): r[1] for r in db.execute("SELECT account, sum(amount) FROM postings WHERE account LIKE 'resident:%' GROUP BY account")}
    for card in sorted(set(want["balances"]) | set(got_bal) | set(fold)):
        w, g, f = want["balances"].get(card, 0), got_bal.get(card, 0), fold.get(card, 0)
        if not w == g == f:
            problems.append(f"balance of {card}: events say {w}, cache {g}, postings {f}")
    got_stock = {(r[0], r[1]): r[2] for r in db.execute("SELECT shop, sku, qty FROM stock")}
    for key in sorted(set(want["stock"]) | set(got_stock)):
        if want["stock"].get(key, 0) != got_stock.get(key, 0):
            problems.append(f"stock {key}: events say {want['stock'].get(key, 0)}, server {got_stock.get(key, 0)}")
    over = {r[0] for r in db.execute("SELECT event FROM review_items WHERE kind = 'overdraft'")}
    if over != want["overdrafts"]:
        problems.append(f"overdraft reviews {sorted(over)} but overdrafts happened at {sorted(want['overdrafts'])}")
    neg = {(r[0], msgspec.json.decode(r[1])["sku"]) for r in db.execute("SELECT event, detail FROM review_items WHERE kind = 'stock_negative'")}
    if neg != want["negative"]:
        problems.append(f"negative-stock reviews {sorted(neg)} but stock went negative at {sorted(want['negative'])}")
    unbalanced = db.execute("SELECT event FROM postings GROUP BY event HAVING sum(amount) != 0").fetchall()
    if unbalanced:
        problems.append(f"unbalanced postings: {unbalanced[:5]}")
    return problems


def kiosk_events(db_path: Path) -> dict[str, bytes]:
    with closing(sqlite3.connect(db_path)) as db:
        return {r[0]: bytes(r[1]) for r in db.execute("SELECT id, body FROM events")}


def check_mirror(kiosk_db: Path, server_db: sqlite3.Connection, shop: str) -> list[str]:
    """The kiosk's mirrored balances (of the residents of the communities its shop serves)
    and stock equal the server's."""
    problems = []
    served = {r[0] for r in server_db.execute("SELECT community FROM shop_serves WHERE shop = ?", (shop,))} or \
        {r[0] for r in server_db.execute("SELECT community FROM shops WHERE id = ?", (shop,))}
    server_bal = {r[0].removeprefix("resident:"): r[1] for r in server_db.execute(
        f"""SELECT b.account, b.points FROM balances b JOIN residents r ON b.account = 'resident:' || r.card
            WHERE r.community IN ({",".join("?" * len(served))})""", sorted(served))}
    server_stock = {r[0]: r[1] for r in server_db.execute("SELECT sku, qty FROM stock WHERE shop = ?", (shop,))}
    with closing(sqlite3.connect(kiosk_db)) as k:
        bal = dict(k.execute("SELECT card, points FROM balances").fetchall())
        stock = dict(k.execute("SELECT sku, qty FROM stock").fetchall())
    for card in sorted(set(bal) | set(server_bal)):
        if bal.get(card, 0) != server_bal.get(card, 0):
            problems.append(f"{kiosk_db.parent.name}: mirror balance of {card} is {bal.get(card)}, server {server_bal.get(card)}")
    for sku in sorted(set(stock) | set(server_stock)):
        if stock.get(sku, 0) != server_stock.get(sku, 0):
            problems.append(f"{kiosk_db.parent.name}: mirror stock of {sku} is {stock.get(sku)}, server {server_stock.get(sku)}")
    return problems

