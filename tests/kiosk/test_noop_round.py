"""A sync round that changes nothing commits its bookkeeping (the round's times, the
renewed lease) without an fsync; anything the kiosk recorded or pulled stays durable, and
a failed round still says when it was tried."""

import msgspec

from kiosk import store as store_mod
from schema.feeds import FEEDS
from tests.conftest import MINUTE
from tests.kiosk.fakeserver import CARD


class Commits:
    """Each transaction SQLite is told to commit on ``conn``: (under ``synchronous=NORMAL``,
    wrote rows), read from the statements the connection runs."""

    def __init__(self, conn):
        self.statements: list[tuple[str, int]] = []
        self.conn = conn
        conn.set_trace_callback(lambda sql: self.statements.append((sql.strip(), conn.total_changes)))

    def stop(self) -> list[tuple[bool, bool]]:
        self.conn.set_trace_callback(None)
        out, lazy, start = [], False, 0
        for sql, total in self.statements:
            if sql == "PRAGMA synchronous=NORMAL":
                lazy = True
            elif sql == "PRAGMA synchronous=FULL":
                lazy = False
            elif sql == "BEGIN IMMEDIATE":
                start = total
            elif sql == "COMMIT":
                out.append((lazy, total > start))
        return out


def written(commits: list[tuple[bool, bool]]) -> list[bool]:
    """Of the transactions that wrote rows, whether each was lazy."""
    return [lazy for lazy, wrote in commits if wrote]


def test_a_round_with_nothing_new_commits_no_durable_write(kiosk, clock):
    clock.advance(MINUTE)
    seen = Commits(kiosk.store.db.conn)
    assert kiosk.sync().ok
    lazy = written(seen.stop())
    assert lazy and all(lazy)  # the page's times were written, none with an fsync
    st = kiosk.status()
    assert (st["last_pull_at"], st["last_attempt_at"], st["reachable"]) == (clock.now, clock.now, True)
    assert st["lease_remaining_seconds"] > 0


def test_bookkeeping_committed_lazily_is_there_after_a_reopen(kiosk, clock, open_service):
    clock.advance(MINUTE)
    assert kiosk.sync().ok
    kiosk.close()
    assert open_service().status()["last_pull_at"] == clock.now


def test_a_round_that_pushes_commits_durably(kiosk, clock):
    kiosk.award(CARD, "V01", "op1")
    clock.advance(MINUTE)
    seen = Commits(kiosk.store.db.conn)
    result = kiosk.sync()
    assert result.ok and result.pushed == 1
    lazy = written(seen.stop())
    assert lazy and not any(lazy)  # the batch, its ack and the page moving the balance


def test_a_page_with_changes_commits_durably(kiosk, server, clock):
    rule = FEEDS["rule"].record
    server.put("rule", "V02", msgspec.convert({"code": "V02", "name": "助老", "kind": "encouraged", "points": 5,
                                               "cap_day": None, "cap_month": None, "status": "active"}, rule))
    clock.advance(MINUTE)
    seen = Commits(kiosk.store.db.conn)
    result = kiosk.sync()
    assert result.ok and result.pulled == 1
    assert written(seen.stop()) == [False]


def test_a_page_that_revokes_commits_durably(kiosk, server, clock):
    server.revoked = True
    seen = Commits(kiosk.store.db.conn)
    assert kiosk.sync().problem == "kiosk_revoked"
    assert written(seen.stop()) and not any(written(seen.stop()))
    assert kiosk.status()["revoked"]


def test_bookkeeping_is_durable_again_once_the_last_durable_commit_is_old(kiosk, clock, monkeypatch):
    monkeypatch.setattr(store_mod, "LAZY_SECONDS", 0.0)  # every durable commit is already too old
    clock.advance(MINUTE)
    seen = Commits(kiosk.store.db.conn)
    assert kiosk.sync().ok
    lazy = written(seen.stop())
    assert lazy and not any(lazy)


def test_a_failed_round_records_when_it_was_tried(kiosk, server, clock):
    pulled = kiosk.status()["last_pull_at"]
    clock.advance(MINUTE)
    server.down = True
    assert kiosk.sync().problem == "offline"
    st = kiosk.status()
    assert (st["last_attempt_at"], st["last_pull_at"], st["reachable"]) == (clock.now, pulled, False)
