"""Backup and restore: ``jifen-server backup FILE`` while kiosks keep pushing to a real
server, then ``restore`` of that (older) backup into the stopped server, and nothing is
lost once the kiosks have synced again — not the batches the backup never saw, not the
mirror changes behind the kiosks' pull cursors. The two restore tests run on SQLite (the
file's online backup) and on PostgreSQL (``pg_dump`` / ``pg_restore``); the refusals below on
SQLite, and a damaged archive and a missing ``pg_dump`` on PostgreSQL too."""

import sqlite3
import subprocess
import threading
from contextlib import closing
import time

import pytest

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from schema.types import CENTRAL_KIOSK
from server.store.pg_backup import tool_dir
from tests.e2e.conftest import cli
from tests.faults.backends import BACKENDS, ServerDb
from tests.faults.oracle import check_mirror, check_server, kiosk_events
from tests.faults.test_crash import CrashableServer, award_many, integrity_ok, new_kiosk


@pytest.fixture
def srv(server_db):
    from tests.e2e.conftest import free_port

    s = CrashableServer(server_db.data, free_port()).start()
    s.db = server_db
    yield s
    s.stop()


def events_in_backup(srv, backup, pg_cluster_or_none) -> int:
    """Events of kiosks in a backup file: read with SQLite, or, for a pg_dump archive,
    restored into a new database first."""
    if srv.db.dsn is None:
        with closing(sqlite3.connect(backup)) as db:
            return db.execute("SELECT count(*) FROM events WHERE kiosk != ?", [CENTRAL_KIOSK]).fetchone()[0]
    dsn = pg_cluster_or_none.create_database("backup_read")
    subprocess.run([str(tool_dir("pg_restore") / "pg_restore"), "--no-owner", "--dbname", dsn, str(backup)], check=True)
    return ServerDb(srv.data, dsn).one("SELECT count(*) FROM events WHERE kiosk != ?", [CENTRAL_KIOSK])[0]


def everything_agrees(srv, kiosks: list[KioskService]) -> None:
    for k in kiosks:
        assert k.sync().ok
    for k in kiosks:  # once more: every mirror has everyone's effects
        assert k.sync().ok
        assert k.status()["pending_events"] == 0
    with srv.db.connect() as db:
        problems = check_server(db, {k.kiosk_id: kiosk_events(k.settings.db_path) for k in kiosks})
        for k in kiosks:
            problems += check_mirror(k.settings.db_path, db, k.shop)
    assert not problems, "\n".join(problems[:20])
    assert srv.cli("audit").returncode == 0


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_backup_while_kiosks_push_then_restore_loses_nothing(srv, tmp_path, request):
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
    if srv.db.dsn is None:
        integrity_ok(backup)
    in_backup = events_in_backup(srv, backup, request.getfixturevalue("pg_cluster") if srv.db.dsn else None)
    live = srv.db.one("SELECT count(*) FROM events WHERE kiosk != ?", [CENTRAL_KIOSK])[0]
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


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
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


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
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
    assert srv.db.one("SELECT count(*) FROM events WHERE kiosk = ?", (k.kiosk_id,))[0] == 4
    everything_agrees(srv, [k])
    k.close()
    reopened = KioskService(kiosk_settings.load(tmp_path / "k", lang="en", timeout=3.0))
    assert reopened.status()["pending_events"] == 0
    reopened.close()


def test_on_postgresql_a_damaged_archive_and_a_missing_pg_dump_are_named(srv, tmp_path, monkeypatch, pg_database):
    monkeypatch.setenv("JIFEN_DATABASE", pg_database)
    srv.db = ServerDb(srv.data, pg_database)
    srv.stop()
    assert cli("jifen-server", "demo-data", "--data", str(srv.data / "pg"), "--residents", "5").returncode == 0
    pg = CrashableServer(srv.data / "pg", srv.port)
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"PGDMP" + b"\x00" * 100)
    refused = pg.cli("restore", str(junk), check=False)
    assert refused.returncode == 2 and "not a pg_dump archive" in refused.stderr, refused.stderr
    assert pg.cli("audit").returncode == 0  # nothing was touched
    monkeypatch.setenv("JIFEN_PG_BIN", str(tmp_path))  # a folder without PostgreSQL's programs
    refused = pg.cli("backup", str(tmp_path / "b.dump"), check=False)
    assert refused.returncode == 2 and "pg_dump not found" in refused.stderr, refused.stderr
    assert not (tmp_path / "b.dump").exists()
