"""The server on PostgreSQL, end to end over real HTTP: a real ``jifen-server serve
--database postgresql://…`` on the session's throwaway cluster (``tests/pgcluster.py``),
demo data loaded by the CLI into it, kiosks enrolled, recording offline and syncing, the
balances on both sides, a letter stored by the projector, handled and rated, a resend
applied once, and ``audit`` passing on the stored batches; then the same batch pushed to two server processes on the one database at once is
stored once."""

import threading
import time

import httpx
import psycopg
import pytest

from sync import codec
from sync.calendar import local_month
from tests.e2e.conftest import ServerProcess, cli, free_port
from tests.e2e.test_sync_over_http import (VOLUNTEER, _signed_batches, push_raw, residents_with_balance, rule_points,
                                           server_balance)


@pytest.fixture
def server(tmp_path, pg_database, monkeypatch):
    """A real server process on a fresh PostgreSQL database with the demo data (loaded by
    ``jifen-server demo-data`` through ``JIFEN_DATABASE``, as every subcommand reads it);
    ``make_kiosk`` enrols kiosks to it."""
    monkeypatch.setenv("JIFEN_DATABASE", pg_database)
    data = tmp_path / "pg-server"
    cli("jifen-server", "demo-data", "--data", str(data), "--residents", "30", "--communities", "3", "--no-activity")
    srv = ServerProcess(data, free_port()).start()
    srv.dsn = pg_database
    yield srv
    srv.stop()


def stored(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def test_kiosks_record_offline_sync_and_audit_passes_on_postgresql(server, make_kiosk):
    assert not (server.data / "server.db").exists()  # the data folder keeps only the key
    kiosk = make_kiosk("ka")
    cards = residents_with_balance(kiosk, 0, 100_000, 3)
    before = {c: server_balance(server, c) for c in cards}
    vol = rule_points(server, VOLUNTEER)
    server.stop()
    for card in cards:
        kiosk.award(card, VOLUNTEER, "op1")
    assert not kiosk.sync().ok  # down: kept on the kiosk
    server.start()
    assert kiosk.sync().ok
    for card in cards:
        assert server_balance(server, card) == before[card] + vol
        assert kiosk.balance(card).confirmed == before[card] + vol
    assert stored(server.dsn, "SELECT count(*) FROM events WHERE kiosk = 'K0001'") == [(len(cards),)]
    # a letter, stored by the projector on PostgreSQL, handled, rated once and counted
    code = kiosk.voice(cards[0], "letter", "roads", "村口路灯坏了", "op1").event.code
    assert kiosk.sync().ok and server.json("voice", "show", code)["status"] == "open"
    server.cli("voice", "reply", code, "--text", "明天修好")
    server.cli("voice", "done", code)
    assert kiosk.sync().ok
    kiosk.rate_voice(cards[0], code, 4, "op1")
    assert kiosk.sync().ok
    assert [s["step"] for s in server.json("voice", "show", code)["steps"]] == ["received", "replied", "done", "rated"]
    assert stored(server.dsn, f"SELECT stars FROM voice_items WHERE code = '{code}'") == [(4,)]
    month = local_month(time.time_ns() // 1_000_000)  # the real processes' clock
    board = server.json("report", "board", "--month", month)["rows"]
    assert sum(r["points"] for r in board) >= len(cards) * vol, board  # the month sums caught up on PostgreSQL
    for report in ("settlement", "issued", "trend", "coverage", "kiosks", "shifts"):
        server.json("report", report, "--month", month)
    server.cli("checkpoint")  # signs the log and the state's row digests, which audit then checks
    audit = server.cli("audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    refused = server.cli("reproject", "--check", check=False)  # a SQLite scratch copy: not on PostgreSQL yet, said by name
    assert refused.returncode != 0 and "PostgreSQL" in refused.stdout + refused.stderr, refused.stdout + refused.stderr


def test_the_same_batch_pushed_to_two_processes_at_once_is_applied_once(server, make_kiosk):
    first = server
    second = ServerProcess(first.data, free_port()).start()  # the same key, the same database
    try:
        kiosk = make_kiosk("ka")
        card = residents_with_balance(kiosk, 0, 100_000, 1)[0]
        before = server_balance(first, card)
        (body, signature), = _signed_batches(kiosk, 1)
        answers: list[httpx.Response] = []
        go = threading.Barrier(2)

        def push(server):
            go.wait()
            answers.append(push_raw(server, "K0001", body, signature))

        threads = [threading.Thread(target=push, args=(s,)) for s in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert sorted(codec.decode(a.content, dict)["status"] for a in answers) == ["applied", "duplicate"]
        assert server_balance(first, card) == before + rule_points(first, VOLUNTEER)
        assert stored(first.dsn, "SELECT count(*) FROM batches WHERE kiosk = 'K0001'") == [(1,)]
        assert first.cli("audit").returncode == 0
    finally:
        second.stop()
