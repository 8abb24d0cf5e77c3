"""Measure the report queries with and without an index on ``postings(at)``.

Builds a server database of ~1M postings (500k events: awards and redemptions, two postings
each) spread over 36 local months and 40 shops, times the monthly report queries of
``server.store.reports`` for one month, adds the index, and times them again.

    .venv/bin/python -m bench.postings_at_index [--events 500000]
"""

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from server.store import open_store
from server.store import reports as q
from sync.calendar import month_bounds

MONTHS = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]


def build(path: Path, n_events: int, seed: int = 1) -> None:
    open_store(path).close()  # every migration but the index under test
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("DROP INDEX IF EXISTS postings_at")
    conn.execute("INSERT INTO communities VALUES ('C1', 'c', 's')")
    conn.executemany("INSERT INTO residents(card, name, phone, community) VALUES (?, ?, '1', 'C1')",
                     [(f"{100000 + i}", f"r{i}") for i in range(20000)])
    events, postings = [], []
    bounds = [month_bounds(m) for m in MONTHS]
    for i in range(n_events):
        start, end = bounds[rng.randrange(len(bounds))]
        at = rng.randrange(start, end)
        card = f"{100000 + rng.randrange(20000)}"
        eid = f"K{1 + i % 40:04d}-{i + 1}"
        if rng.random() < 0.7:
            body = json.dumps({"rule": "R01", "type": "award"})
            events.append((eid, f"K{1 + i % 40:04d}", 1, i + 1, "award", at, at, card, "op1", f"S{i % 40}", body))
            postings += [(eid, f"resident:{card}", 5, at), (eid, "programme:issued", -5, at)]
        else:
            body = json.dumps({"type": "redeem"})
            events.append((eid, f"K{1 + i % 40:04d}", 1, i + 1, "redeem", at, at, card, "op1", f"S{i % 40}", body))
            postings += [(eid, f"resident:{card}", -30, at), (eid, f"shop:S{i % 40}", 30, at)]
    conn.executemany("INSERT INTO events(id, kiosk, batch_seq, kseq, kind, at, received_at, resident, operator, shop, body)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?)", events)
    conn.executemany("INSERT INTO postings(event, account, amount, at) VALUES (?,?,?,?)", postings)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def timed(path: Path, label: str) -> dict:
    start, end = month_bounds("2025-06")
    out = {}
    for name, run in [
        ("earned (board)", lambda db: q.earned(db, start, end, None)),
        ("resident_flows (issued)", lambda db: q.resident_flows(db, start, end)),
        ("shop_postings x40 (settlement)", lambda db: [q.shop_postings(db, f"S{i}", start, end) for i in range(40)]),
        ("account_sum x40", lambda db: [q.account_sum(db, f"shop:S{i}", start, end) for i in range(40)]),
    ]:
        best = None
        for _ in range(3):
            store = open_store(path, migrate=False)  # a fresh snapshot reader each time
            with store.read() as db:
                t = time.perf_counter()
                run(db)
                best = min(best or 1e9, time.perf_counter() - t)
            store.close()
        out[name] = round(best * 1000, 1)
    print(label, json.dumps(out, ensure_ascii=False))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=500_000)
    args = ap.parse_args()
    path = Path(tempfile.mkdtemp()) / "server.db"
    t = time.perf_counter()
    build(path, args.events)
    conn = sqlite3.connect(path)
    n = conn.execute("SELECT count(*) FROM postings").fetchone()[0]
    print(f"built {n} postings in {time.perf_counter() - t:.1f} s")
    timed(path, "without postings(at), ms:")
    conn.execute("CREATE INDEX postings_at ON postings(at)")
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    timed(path, "with postings(at), ms:   ")


if __name__ == "__main__":
    main()
