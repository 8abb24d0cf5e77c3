"""The server on PostgreSQL, end to end over real HTTP: a real ``jifen-server serve
--database postgresql://…`` on the session's throwaway cluster (``tests/pgcluster.py``),
demo data loaded by the CLI into it, kiosks enrolled, recording offline and syncing, the
balances on both sides, a letter stored by the projector, handled and rated (at a kiosk, and
another on the public page with the phone's last four), a resend
applied once, ``audit`` passing on the stored batches and ``reproject --check`` on the
ledger (replacing it refused by name); then the same batch pushed to two server processes on
the one database at once is stored once; many kiosks pushing at once through two processes
(pushes of different kiosks no longer take turns: ``Store.write_keyed``), each batch also
sent to both processes at once, store every event once in intact chains; and the projecting
process, killed mid-stream, is taken over by the other."""

import os
import signal
import threading
import time

import httpx
import psycopg
import pytest

from kiosk import settings as kiosk_settings
from kiosk.keys import load_key
from kiosk.service import KioskService
from kiosk.syncing import Round
from server.services.projector import lease_scope
from server.store.postgres import PROJECTOR_LOCK, lease_key
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
    metrics = httpx.get(server.url + "/metrics").text  # every series labelled with the backend it runs on
    assert 'jifen_kiosk_requests_total{backend="postgresql",endpoint="push",outcome="applied"}' in metrics
    assert 'jifen_projection_behind{backend="postgresql"} 0.0' in metrics and 'backend="sqlite"' not in metrics
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
    # another rated on the public page: wrong phone digits counted and refused, the right ones rate it
    public = kiosk.voice(cards[1], "request", "roads", "路面有坑", "op1").event.code
    assert kiosk.sync().ok
    server.cli("voice", "reply", public, "--text", "已填平")
    server.cli("voice", "done", public)
    (phone,), = stored(server.dsn, f"SELECT phone FROM residents WHERE card = '{cards[1]}'")
    rate = f"{server.url}/public/voice/item/{public}/rate"
    wrong = httpx.post(rate, data={"stars": "2", "phone_tail": f"{(int(phone[-4:]) + 1) % 10000:04d}"})
    assert wrong.status_code == 403 and "手机号后四位不对" in wrong.text
    assert httpx.post(rate, data={"stars": "2", "phone_tail": phone[-4:]}).status_code == 303
    assert stored(server.dsn, f"SELECT failures FROM voice_rate_failures WHERE code = '{public}'") == [(1,)]
    assert stored(server.dsn, f"SELECT stars, rating_event FROM voice_items WHERE code = '{public}'") == [(2, "public")]
    month = local_month(time.time_ns() // 1_000_000)  # the real processes' clock
    board = server.json("report", "board", "--month", month)["rows"]
    assert sum(r["points"] for r in board) >= len(cards) * vol, board  # the month sums caught up on PostgreSQL
    for report in ("settlement", "issued", "trend", "coverage", "kiosks", "shifts"):
        server.json("report", report, "--month", month)
    server.cli("checkpoint")  # signs the log and the state's row digests, which audit then checks
    audit = server.cli("audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    check = server.cli("reproject", "--check", check=False)  # the ledger rebuilt from the log in a copy of one snapshot
    assert check.returncode == 0 and "the stored ledger is the same" in check.stdout, check.stdout + check.stderr
    refused = server.cli("reproject", check=False)  # replacing the stored ledger: SQLite only, said by name
    assert refused.returncode == 2 and "reproject --check" in refused.stderr, refused.stdout + refused.stderr


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


def test_many_kiosks_pushing_through_two_processes_at_once_store_every_event_once(server, tmp_path):
    """Six kiosks, half enrolled with each of two server processes on one database, record
    and push at once from their own threads, round after round; each new batch is first
    sent raw to both processes at the same moment (the same bytes twice, one process each),
    then the kiosk syncs as usual (a resend: duplicate). Every batch is applied once, every
    event is stored once, each kiosk's chain is whole (seqs 1..n, each batch's prev the hash
    of the one before, the kiosk row at its head, one log position per batch), every
    position is projected, the balances are what the awards give, and audit passes."""
    first = server
    second = ServerProcess(first.data, free_port()).start()
    procs = (first, second)
    kiosks: list[KioskService] = []
    try:
        for i in range(6):
            k = KioskService(kiosk_settings.load(tmp_path / f"k{i}", lang="en", timeout=30.0))
            k.enroll(procs[i % 2].url, first.enroll_code("S01"))
            assert k.sync().ok
            kiosks.append(k)
        cards = residents_with_balance(kiosks[0], 0, 100_000, len(kiosks))
        before = {c: server_balance(first, c) for c in cards}
        vol = rule_points(first, VOLUNTEER)
        rounds, per_round = 6, 3
        statuses: list[list[str]] = [[] for _ in kiosks]
        failures: list[BaseException] = []
        start = threading.Barrier(len(kiosks))

        def run(i: int) -> None:
            k = kiosks[i]
            try:
                key = load_key(k.settings.key_path)
                start.wait(60)
                for _ in range(rounds):
                    for _ in range(per_round):
                        k.award(cards[i], VOLUNTEER, "op1")
                    Round(k.store, None, key, k.clock, 1, 100).build_batches(2)  # two batches a round
                    for row in k.store._rows("SELECT body, signature FROM outbox WHERE acked_at IS NULL ORDER BY seq"):
                        both = threading.Barrier(2)
                        answers: list[httpx.Response] = []

                        def send(proc, row=row, both=both, answers=answers):
                            both.wait(30)
                            answers.append(push_raw(proc, k.kiosk_id, row["body"], row["signature"]))

                        senders = [threading.Thread(target=send, args=(p,)) for p in procs]
                        for t in senders:
                            t.start()
                        for t in senders:
                            t.join(120)
                        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
                        statuses[i].append("+".join(sorted(codec.decode(a.content, dict)["status"] for a in answers)))
                    assert k.sync().ok  # the kiosk learns the acknowledgements (duplicates) and pulls
            except BaseException as exc:  # re-raised below, in the test's thread
                failures.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(kiosks))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        if failures:
            raise failures[0]
        batches = rounds * 2
        for got in statuses:  # each pair of sends: one applied, one duplicate
            assert got == ["applied+duplicate"] * batches, got
        ids = [k.kiosk_id for k in kiosks]
        awards = rounds * per_round
        events = stored(first.dsn, "SELECT kiosk, count(*), count(DISTINCT id) FROM events GROUP BY kiosk")
        assert {r[0]: r[1:] for r in events if r[0] in ids} == {kid: (awards, awards) for kid in ids}
        for kid in ids:
            chain_rows = stored(first.dsn, f"SELECT seq, prev, hash, status FROM batches WHERE kiosk = '{kid}' ORDER BY seq")
            assert [r[0] for r in chain_rows] == list(range(1, batches + 1)) and {r[3] for r in chain_rows} == {"applied"}
            assert all(b[1] == a[2] for a, b in zip(chain_rows, chain_rows[1:])), f"{kid}: a batch does not chain to the one before"
            assert stored(first.dsn, f"SELECT next_seq, last_hash FROM kiosks WHERE id = '{kid}'") == [(batches + 1, chain_rows[-1][2])]
            assert stored(first.dsn, f"SELECT count(*), count(DISTINCT seq) FROM ingest_log WHERE kiosk = '{kid}'") == [(batches, batches)]
        deadline = time.monotonic() + 60
        while (position := log_position(first.dsn))[1] < position[0] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert position[0] == position[1], f"not every logged batch was projected: {position}"
        for i, card in enumerate(cards):
            assert server_balance(first, card) == before[card] + awards * vol
            assert kiosks[i].balance(card).confirmed == before[card] + awards * vol
        audit = first.cli("audit")
        assert audit.returncode == 0, audit.stdout + audit.stderr
    finally:
        for k in kiosks:
            k.close()
        second.stop()


def lease_holder(dsn: str) -> int | None:
    """The OS pid of the server process holding the projector's lease, if one does (its lease
    connection's ``application_name``)."""
    rows = stored(dsn, "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                       f" WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {PROJECTOR_LOCK}"
                       " AND a.application_name LIKE 'jifen-projector pid=%'")
    return int(rows[0][0].split("=")[1]) if rows else None


def log_position(dsn: str) -> tuple[int, int]:
    """(log head, projector cursor)."""
    ((head, first),) = stored(dsn, "SELECT (SELECT coalesce(max(pos), 0) FROM ingest_log),"
                                   " (SELECT min(pos) FROM ingest_log WHERE projected = 0)")
    return head, head if first is None else first - 1


def test_the_projecting_process_killed_mid_stream_is_taken_over_by_the_other(server, make_kiosk, tmp_path):
    """Two server processes projecting in the background on one database: while the
    projector's lease is held (here by the test itself) neither projects; released, one
    takes it and projects chunk by chunk; killed (SIGKILL) mid-stream, the other takes over
    and finishes. Every event is in the ledger once, the balances are the sum of the
    postings and what the awards give, and audit passes."""
    env = {**os.environ, "JIFEN_PROJECTION": "background", "JIFEN_PROJECTION_CHUNK_EVENTS": "5"}
    server.stop()
    first = server.start(env=env)
    second = ServerProcess(first.data, free_port()).start(env=env)
    lease = psycopg.connect(server.dsn, autocommit=True)
    try:
        ka = make_kiosk("ka")
        kb = KioskService(kiosk_settings.load(tmp_path / "kb", lang="en", timeout=3.0))  # syncs with the second process
        kb.enroll(second.url, first.enroll_code("S01"))
        assert kb.sync().ok
        cards = residents_with_balance(ka, 0, 100_000, 6)
        before = {c: server_balance(first, c) for c in cards}
        vol = rule_points(first, VOLUNTEER)
        head0, cursor0 = log_position(server.dsn)
        assert cursor0 == head0
        lease.execute("SELECT pg_advisory_lock(%s, %s)", [PROJECTOR_LOCK, lease_key(lease_scope(""))])
        awarded = {c: 0 for c in cards}
        rounds = 30
        for i in range(rounds):  # one batch per kiosk and round: many chunks to project
            for k, card in ((ka, cards[i % 3]), (kb, cards[3 + i % 3])):
                for _ in range(2):
                    k.award(card, VOLUNTEER, "op1")
                    awarded[card] += 1
                assert k.sync().ok
        head, cursor = log_position(server.dsn)
        assert head == head0 + 2 * rounds and cursor == cursor0  # acknowledged, none projected: the lease is held
        time.sleep(1.5)  # three background rounds of each process, all skipped
        assert log_position(server.dsn)[1] == cursor0
        lease.execute("SELECT pg_advisory_unlock(%s, %s)", [PROJECTOR_LOCK, lease_key(lease_scope(""))])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # a process holds the lease and is part-way through
            holder = lease_holder(server.dsn)
            if holder is not None and cursor0 < log_position(server.dsn)[1] < head:
                break
            time.sleep(0.002)
        else:
            raise AssertionError(f"no process seen projecting: {log_position(server.dsn)}")
        victim, survivor = (first, second) if holder == first.proc.pid else (second, first)
        assert holder == victim.proc.pid
        victim.stop(signal.SIGKILL)
        at_kill = log_position(server.dsn)[1]
        print(f"killed {victim.port} at {at_kill - cursor0} of {head - cursor0} batches")
        assert at_kill < head, "the projection ended before the kill; the test did not kill it mid-stream"
        deadline = time.monotonic() + 60
        while log_position(server.dsn)[1] < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log_position(server.dsn) == (head, head), "the survivor did not take over"
        assert survivor.proc.poll() is None and lease_holder(server.dsn) in (None, survivor.proc.pid)
        # nothing lost, nothing counted twice
        n = sum(awarded.values())
        assert stored(server.dsn, "SELECT count(*) FROM events WHERE kiosk IN ('K0001', 'K0002')") == [(n,)]
        assert stored(server.dsn, "SELECT count(*) FROM postings p JOIN events e ON e.id = p.event"
                                  " WHERE e.kiosk IN ('K0001', 'K0002')") == [(2 * n,)]
        assert stored(server.dsn, "SELECT count(*) FROM (SELECT b.account FROM balances b LEFT JOIN"
                                  " (SELECT account, sum(amount) AS s FROM postings GROUP BY account) p ON p.account = b.account"
                                  " WHERE b.points != coalesce(p.s, 0)) d") == [(0,)]
        for card in cards:
            assert server_balance(survivor, card) == before[card] + awarded[card] * vol
        assert survivor.cli("audit").returncode == 0
        kb.close()
    finally:
        lease.close()
        second.stop()
