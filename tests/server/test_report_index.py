"""The monthly report queries that select postings by time use the postings(at) index
(migration 4) instead of scanning every posting."""

from server.store import open_store
from server.store import reports as q

MONTH = (1_767_196_800_000, 1_769_875_200_000)


def plan(db, sql: str, params) -> str:
    return " ".join(r[3] for r in db.sql.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_board_and_issued_queries_use_the_postings_at_index(tmp_path, monkeypatch):
    store = open_store(tmp_path / "s.db")
    seen = []
    with store.read() as db:
        real = db.sql.query

        def spy(sql, params=()):
            seen.append(plan(db, sql, params))
            return real(sql, params)

        monkeypatch.setattr(db.sql, "query", spy)
        q.earned(db, *MONTH, None)
        q.resident_flows(db, *MONTH)
    store.close()
    assert len(seen) == 2 and all("postings_at" in p for p in seen), seen
