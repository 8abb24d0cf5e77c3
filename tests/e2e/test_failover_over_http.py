"""A province's failover, end to end over real HTTP (docs/DEPLOY.md § 6 of the province): a
PostgreSQL primary with a synchronous streaming standby (``tests/pgcluster.py``:
``pg_basebackup`` into a replication slot, ``synchronous_standby_names``) and an
asynchronous one, a real ``jifen-server serve --database`` on the primary and a kiosk
recording and syncing against it.

The asynchronous standby is cut off from the primary; the kiosk syncs on; the primary is
stopped hard (``pg_ctl stop -m immediate``) while the kiosk syncs. The synchronous standby
is promoted and a server on it, with the same data folder (its key) and address, serves:
every batch the kiosk had acknowledged is on it before the kiosk says anything to it, the
kiosk keeps syncing, the balances are what the awards give, and ``audit`` passes.

Then the other history: the asynchronous standby, which lacks acknowledged batches, is
promoted instead and put through a restore of its own dump (``backup`` then ``restore``, the
repair DEPLOY.md gives for a standby that may lack commits); the kiosk resends, from its
outbox, every batch it lacks, and ``audit`` passes there too."""

import signal
import threading
import time

import psycopg
import pytest

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from tests import pgcluster
from tests.e2e.conftest import ServerProcess, cli, free_port
from tests.e2e.test_sync_over_http import VOLUNTEER, residents_with_balance


@pytest.fixture
def clusters():
    """A primary with commits waited for by its synchronous standby ``standby1``, and an
    asynchronous standby ``standby2``."""
    bindir = pgcluster.find_bin()
    if bindir is None:
        pgcluster.unavailable("initdb not found in /usr/lib/postgresql/*/bin or PATH")
    primary = pgcluster.Cluster(bindir).start(replicated=True)
    made = [primary]
    try:
        primary.sql("CREATE DATABASE jifen")
        standby = primary.standby("standby1")
        made.append(standby)
        lagging = primary.standby("standby2")
        made.append(lagging)
        primary.synchronous("standby1")
        yield primary, standby, lagging
    finally:
        for c in made:
            c.stop()


def stored(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def acked(kiosk: KioskService) -> list[int]:
    return [r["seq"] for r in kiosk.store._rows("SELECT seq FROM outbox WHERE acked_at IS NOT NULL ORDER BY seq")]


def test_a_failover_loses_nothing_acknowledged(clusters, tmp_path, monkeypatch):
    primary, standby, lagging = clusters
    data = tmp_path / "server"
    monkeypatch.setenv("JIFEN_DATABASE", primary.dsn("jifen"))  # every subcommand, the server's too
    cli("jifen-server", "demo-data", "--data", str(data), "--residents", "30", "--communities", "3", "--no-activity")
    port = free_port()
    server = ServerProcess(data, port).start()
    kiosk = KioskService(kiosk_settings.load(tmp_path / "ka", lang="en", timeout=2.0))
    try:
        kiosk.enroll(server.url, server.enroll_code("S01"))
        assert kiosk.sync().ok
        cards = residents_with_balance(kiosk, 0, 100_000, 3)
        before = {c: kiosk.balance(c).confirmed for c in cards}  # the server's, as pulled
        vol = stored(primary.dsn("jifen"), f"SELECT points FROM rules WHERE code = '{VOLUNTEER}'")[0][0]
        awarded = 0
        for i in range(4):  # acknowledged with the standby in sync
            kiosk.award(cards[i % 3], VOLUNTEER, "op1")
            awarded += 1
            assert kiosk.sync().ok
        # the asynchronous standby falls behind: cut off from the primary
        lagging.sql("ALTER SYSTEM SET primary_conninfo = ''")
        lagging.sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while primary.sql("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby2'")[0][0]:
            assert time.monotonic() < deadline, "standby2 still streaming"
            time.sleep(0.05)
        for _ in range(2):  # acknowledged, on the synchronous standby only
            kiosk.award(cards[awarded % 3], VOLUNTEER, "op1")
            awarded += 1
            assert kiosk.sync().ok
        # the primary dies while the kiosk keeps recording and syncing
        killer = threading.Timer(0.3, primary.stop_hard)
        killer.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            kiosk.award(cards[awarded % 3], VOLUNTEER, "op1")
            awarded += 1
            if not kiosk.sync().ok:
                break
        else:
            raise AssertionError("the kiosk kept syncing with the primary stopped")
        killer.join()
        server.stop(signal.SIGKILL)  # its machine went with the database's
        kept = acked(kiosk)
        assert len(kept) >= 6
        standby.promote()
        new_dsn = standby.dsn("jifen")
        monkeypatch.setenv("JIFEN_DATABASE", new_dsn)  # the servers repointed
        # before any kiosk speaks to it: every batch acknowledged is on the promoted standby
        on_standby = [r[0] for r in stored(new_dsn, "SELECT seq FROM batches WHERE kiosk = 'K0001' ORDER BY seq")]
        assert set(kept) <= set(on_standby), (kept, on_standby)
        print(f"acknowledged {len(kept)} batches before the primary stopped; the synchronous standby holds {len(on_standby)}")
        # a server on the new primary, at the same address (the proxy's), with the same key
        server = ServerProcess(data, port).start()
        kiosk.award(cards[awarded % 3], VOLUNTEER, "op1")
        awarded += 1
        assert kiosk.sync().ok
        assert kiosk.store.unacked_batches() == []
        total = stored(new_dsn, "SELECT count(*) FROM events WHERE kiosk = 'K0001'")[0][0]
        assert total == awarded, (total, awarded)
        for card in cards:
            want = before[card] + vol * sum(1 for i in range(awarded) if cards[i % 3] == card)
            assert stored(new_dsn, f"SELECT points FROM balances WHERE account = 'resident:{card}'") == [(want,)]
            assert kiosk.balance(card).confirmed == want
        audit = server.cli("audit", check=False)
        assert audit.returncode == 0, audit.stdout + audit.stderr

        # the other history: the lagging standby promoted instead, repaired by a restore of itself
        server.stop()
        lagging.promote()
        late_dsn = lagging.dsn("jifen")
        monkeypatch.setenv("JIFEN_DATABASE", late_dsn)
        kept = acked(kiosk)
        held = [r[0] for r in stored(late_dsn, "SELECT seq FROM batches WHERE kiosk = 'K0001' ORDER BY seq")]
        lost = sorted(set(kept) - set(held))
        assert lost, (kept, held)  # acknowledged, and not on the asynchronous standby
        dump = tmp_path / "promoted.dump"
        cli("jifen-server", "backup", "--data", str(data), str(dump))
        cli("jifen-server", "restore", "--data", str(data), str(dump))
        server = ServerProcess(data, port).start()
        assert kiosk.sync().ok
        assert kiosk.store.unacked_batches() == []
        on_late = [r[0] for r in stored(late_dsn, "SELECT seq FROM batches WHERE kiosk = 'K0001' ORDER BY seq")]
        assert on_late == acked(kiosk), (on_late, acked(kiosk))
        assert stored(late_dsn, "SELECT count(*) FROM events WHERE kiosk = 'K0001'")[0][0] == awarded
        for card in cards:
            want = before[card] + vol * sum(1 for i in range(awarded) if cards[i % 3] == card)
            assert stored(late_dsn, f"SELECT points FROM balances WHERE account = 'resident:{card}'") == [(want,)]
            assert kiosk.balance(card).confirmed == want
        audit = server.cli("audit", check=False)
        assert audit.returncode == 0, audit.stdout + audit.stderr
    finally:
        kiosk.close()
        server.stop()
