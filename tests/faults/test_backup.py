"""Backup and restore: ``jifen-server backup FILE`` while kiosks keep pushing to a real
server, then ``restore`` of that (older) backup into the stopped server, and nothing is
lost once the kiosks have synced again — not the batches the backup never saw, not the
mirror changes behind the kiosks' pull cursors."""

import sqlite3
import threading
from contextlib import closing
import time

import pytest

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from schema.types import CENTRAL_KIOSK
from tests.e2e.conftest import cli
from tests.faults.oracle import check_mirror, check_server, kiosk_events
from tests.faults.test_crash import CrashableServer, award_many, integrity_ok, new_kiosk


@pytest.fixture
def srv(server_dir):
    from tests.e2e.conftest import free_port

    s = CrashableServer(server_dir, free_port()).start()
    yield s
    s.stop()


def everything_agrees(srv, kiosks: list[KioskService]) -> None:
    for k in kiosks:
        assert k.sync().ok
    for k in kiosks:  # once more: every mirror has everyone's effects
        assert k.sync().ok
        assert k.status()["pending_events"] == 0
    with closing(sqlite3.connect(srv.data / "server.db")) as db:
        problems = check_server(db, {k.kiosk_id: kiosk_events(k.settings.db_path) for k in kiosks})
        for k in kiosks:
            problems += check_mirror(k.settings.db_path, db, k.shop)
    assert not problems, "\n".join(problems[:20])
    assert srv.cli("audit").returncode == 0


def test_backup_while_kiosks_push_then_restore_loses_nothing(srv, tmp_path):
    kiosks = [new_kiosk(srv, tmp_path / f"k{i}", batch_events=3) for i in range(3)]
    for k in kiosks:
        award_many(k, 30)
    stop = threading.Event()

    def keep_working(k: KioskService) -> None:
        while not stop.is_set():
            award_many(k, 2)
            k.sync()

    threads = [threading.Thread(target=keep_working, args=(k,)) for k in kiosks]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        backup = tmp_path / "backups" / "server-backup.db"
        backup.parent.mkdir()
        out = srv.json("backup", str(backup))  # online: the kiosks keep pushing meanwhile
        assert out["bytes"] > 0
        time.sleep(0.5)  # work the backup will not have
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    for k in kiosks:
        assert k.sync().ok
    integrity_ok(backup)
    with closing(sqlite3.connect(backup)) as db:
        in_backup = db.execute("SELECT count(*) FROM events WHERE kiosk != ?", [CENTRAL_KIOSK]).fetchone()[0]
    with closing(sqlite3.connect(srv.data / "server.db")) as db:
        live = db.execute("SELECT count(*) FROM events WHERE kiosk != ?", [CENTRAL_KIOSK]).fetchone()[0]
    assert 0 < in_backup < live  # the backup is older than the server: some work is behind it

    srv.stop()
    restored = srv.json("restore", str(backup))
    assert restored["kiosks"] == 3
    srv.start()
    assert srv.cli("audit").returncode == 0
    everything_agrees(srv, kiosks)  # idle kiosks too: nothing new to push, yet they resend
    for k in kiosks:
        award_many(k, 3)  # and work goes on afterwards
    everything_agrees(srv, kiosks)
    for k in kiosks:
        k.close()


def test_restore_refuses_while_the_server_runs(srv, tmp_path):
    k = new_kiosk(srv, tmp_path / "k")
    srv.cli("backup", str(tmp_path / "b.db"))
    refused = srv.cli("restore", str(tmp_path / "b.db"), check=False)
    assert refused.returncode == 2 and "stop the server" in refused.stderr
    award_many(k, 3)
    assert k.sync().ok  # the running server was not disturbed
    assert srv.cli("audit").returncode == 0
    k.close()


def test_restore_refuses_a_damaged_file_and_another_servers_backup(srv, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    srv.stop()
    assert srv.cli("restore", str(junk), check=False).returncode == 2
    other = tmp_path / "other"
    cli("jifen-server", "demo-data", "--data", str(other), "--residents", "5")
    cli("jifen-server", "backup", str(tmp_path / "other.db"), "--data", str(other))
    refused = srv.cli("restore", str(tmp_path / "other.db"), check=False)
    assert refused.returncode == 2 and "server.key" in refused.stderr
    key = (srv.data / "server.key").read_bytes()
    (srv.data / "server.key").unlink()  # a new machine, the key not copied yet
    refused = srv.cli("restore", str(tmp_path / "other.db"), check=False)
    assert refused.returncode == 2 and "server.key is missing" in refused.stderr
    assert not (srv.data / "server.key").exists()
    (srv.data / "server.key").write_bytes(key)
    srv.start()
    assert srv.cli("audit").returncode == 0


def test_a_restore_the_kiosk_learns_of_only_by_pulling(srv, tmp_path):
    """A kiosk with nothing new to push still gets its lost batches back onto the server."""
    k = new_kiosk(srv, tmp_path / "k", batch_events=2)
    award_many(k, 4)
    assert k.sync().ok
    backup = tmp_path / "b.db"
    srv.cli("backup", str(backup))
    award_many(k, 6)
    assert k.sync().ok
    srv.stop()
    srv.cli("restore", str(backup))
    srv.start()
    with closing(sqlite3.connect(srv.data / "server.db")) as db:
        assert db.execute("SELECT count(*) FROM events WHERE kiosk = ?", (k.kiosk_id,)).fetchone()[0] == 4
    everything_agrees(srv, [k])
    k.close()
    reopened = KioskService(kiosk_settings.load(tmp_path / "k", lang="en", timeout=3.0))
    assert reopened.status()["pending_events"] == 0
    reopened.close()
