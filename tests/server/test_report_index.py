"""The monthly reports read month sums (migration 13), and catching the sums up reads only
the postings stored since the last catch-up: no report query scans the postings or the
events, however long the history."""

import sqlite3

from server.store import open_store
from server.store import reports as q

MONTH = "2026-01"


def plans(db, monkeypatch, calls) -> list[str]:
    seen = []
    real_query, real_execute = db.sql.query, db.sql.execute

    def plan(sql, params):
        if sql.lstrip().upper().startswith(("SELECT", "INSERT", "WITH")):
            seen.append(" ".join(r[3] for r in real_execute(f"EXPLAIN QUERY PLAN {sql}", params)))

    def query(sql, params=()):
        plan(sql, params)
        return real_query(sql, params)

    def execute(sql, params=()):
        plan(sql, params)
        return real_execute(sql, params)

    monkeypatch.setattr(db.sql, "query", query)
    monkeypatch.setattr(db.sql, "execute", execute)
    for call in calls:
        call(db)
    monkeypatch.undo()
    return seen


def test_the_report_reads_seek_the_month_sums(tmp_path, monkeypatch):
    store = open_store(tmp_path / "s.db")
    with store.read() as db:
        seen = plans(db, monkeypatch, [lambda db: q.board(db, MONTH, None), lambda db: q.board_counts(db, MONTH, None), lambda db: q.resident_flows(db, MONTH),
                                       lambda db: q.shop_postings(db, MONTH), lambda db: q.goods_handed_out(db, MONTH),
                                       lambda db: q.coverage(db, MONTH), lambda db: q.flows_by_month(db, "2025-02", MONTH, None)])
    store.close()
    assert len(seen) == 8 and all("PRIMARY KEY (month" in p for p in seen if "coverage" not in p and "communities" not in p), seen
    # the only table read whole is the list of communities (coverage has a line for each)
    scans = [step for p in seen for step in p.split(" SEARCH ") if "SCAN" in step]
    assert all(s.startswith("SCAN c USING INDEX sqlite_autoindex_communities") for s in scans), seen


def test_catching_up_reads_only_the_new_postings(tmp_path, monkeypatch):
    open_store(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as conn:  # a posting alone: only the plans are looked at
        conn.execute("INSERT INTO postings(event, account, amount, at) VALUES ('K1-1', 'resident:X', 5, 1767225600000)")
    store = open_store(tmp_path / "s.db")
    with store.write() as db:
        seen = plans(db, monkeypatch, [q.catch_up])
    store.close()
    inserts = [p for p in seen if "postings" in p or "SEARCH p" in p]
    assert inserts and all("SEARCH p USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in p for p in inserts if "p USING" in p), seen


def test_an_account_sum_over_a_time_range_seeks_the_account_and_postings_at_is_gone(tmp_path, monkeypatch):
    """Migration 23 dropped ``postings_at``: the one query filtering postings by time names
    its account, and ``postings_account`` serves it."""
    store = open_store(tmp_path / "s.db")
    with store.read() as db:
        seen = plans(db, monkeypatch, [lambda d: q.account_sum(d, "resident:C1", 0, 1)])
        indexes = {r[0] for r in db.sql.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'postings'")}
    store.close()
    assert seen and all("USING INDEX postings_account (account=?)" in p for p in seen), seen
    assert "postings_at" not in indexes and "postings_account" in indexes
