"""A full disk, a read-only database, a database another program holds, a corrupt file:
each really caused (SQLite's ``max_page_count``, file permissions, a second connection's
exclusive lock, garbage bytes), each a plain sentence from the service and the CLI,
nothing half-recorded, earlier records intact, and ``jifen-kiosk status`` still answering."""

import os
from contextlib import contextmanager
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.errors import DatabaseDamaged, DatabaseLocked, DiskFull
from kiosk.i18n import t
from tests.kiosk.fakeserver import CARD

#: a note big enough that a few deliveries fill the pages left
NOTE = "送货单" * 60


def cli(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "JIFEN_LANG": "zh", "JIFEN_OPERATOR_PIN": "1234", **env}  # op1's PIN (tests/kiosk/fakeserver.py)
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args, "--data", str(data)], env=environ,
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


def plain_chinese(text: str) -> bool:
    """A sentence, not a traceback or SQLite's English."""
    return bool(text.strip()) and "Traceback" not in text and not re.search(r"[A-Za-z]{4,}", text)


def event_count(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM events").fetchone()[0]


def pages(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("PRAGMA page_count").fetchone()[0]


def test_a_full_disk_refuses_the_write_whole_and_keeps_what_was_there(kiosk, open_service):
    kept = kiosk.award(CARD, "V01", "op1").id
    db = kiosk.settings.db_path
    kiosk.close()
    full = open_service(max_pages=pages(db))
    before = full.status()["pending_events"]
    with pytest.raises(DiskFull) as refused:
        for _ in range(200):
            full.stock_in([("OIL", 1)], "op1", NOTE)
            before = full.status()["pending_events"]
    assert "磁盘已满" in t(refused.value.key, "zh")
    assert full.status()["pending_events"] == before  # the refused delivery left nothing
    assert kept in [r["id"] for r in full.history(CARD)]
    full.close()
    again = open_service()
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert again.status()["pending_events"] == before
    again.stock_in([("OIL", 1)], "op1", NOTE)  # room again: recording goes on


def test_the_cli_says_the_disk_is_full_and_status_still_answers(kiosk):
    data, db = kiosk.settings.data_dir, kiosk.settings.db_path
    kiosk.close()
    limit = {"JIFEN_KIOSK_MAX_PAGES": str(pages(db))}
    for _ in range(60):
        count = event_count(db)
        out = cli(data, "stock-in", "--item", "OIL:1", "--operator", "op1", "--note", NOTE, **limit)
        if out.returncode:
            break
    assert out.returncode == 1 and "磁盘已满" in out.stderr and plain_chinese(out.stderr), out.stderr
    assert event_count(db) == count
    status = cli(data, "status", **limit)
    assert status.returncode == 0 and f"待同步记录 {count} 条" in status.stdout


def test_a_database_another_program_holds(kiosk, open_service):
    kiosk.award(CARD, "V01", "op1")
    data, db = kiosk.settings.data_dir, kiosk.settings.db_path
    kiosk.close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        svc = open_service(db_wait=0.2)
        with pytest.raises(DatabaseLocked):
            svc.award(CARD, "R01", "op1")
        assert svc.status()["pending_events"] == 1  # reads go on
        out = cli(data, "award", "--resident", CARD, "--rule", "R01", "--operator", "op1", JIFEN_KIOSK_DB_WAIT="0.2")
        assert out.returncode == 1 and "占用" in out.stderr and plain_chinese(out.stderr), out.stderr
        status = cli(data, "status", JIFEN_KIOSK_DB_WAIT="0.2")
        assert status.returncode == 0 and "待同步记录 1 条" in status.stdout
    finally:
        holder.rollback()
        holder.close()
    assert event_count(db) == 1


def test_a_corrupt_database_is_said_plainly(kiosk, open_service):
    data, db = kiosk.settings.data_dir, kiosk.settings.db_path
    kiosk.close()
    for leftover in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    db.write_bytes(os.urandom(8192))
    with pytest.raises(DatabaseDamaged):
        open_service()
    for command in (["status"], ["balance", CARD], ["award", "--resident", CARD, "--rule", "V01", "--operator", "op1"]):
        out = cli(data, *command)
        assert out.returncode == 1 and "已损坏" in out.stderr and plain_chinese(out.stderr), (command, out.stderr)


@contextmanager
def read_only(data: Path):
    """The data folder on a read-only disk: as root (who ignores file modes) a read-only
    bind mount of the folder onto itself; otherwise the database file made read-only."""
    if os.geteuid() != 0:
        os.chmod(data / "kiosk.db", 0o444)
        try:
            yield
        finally:
            os.chmod(data / "kiosk.db", 0o644)
        return
    made = subprocess.run(["mount", "--bind", str(data), str(data)], capture_output=True)
    if made.returncode:
        pytest.skip(f"root, but no bind mount here: {made.stderr!r}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(data)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(data)], check=True)


def test_a_read_only_disk_refuses_writes_and_status_still_answers(kiosk):
    kiosk.award(CARD, "V01", "op1")
    data = kiosk.settings.data_dir
    kiosk.close()
    with read_only(data):
        out = cli(data, "award", "--resident", CARD, "--rule", "R01", "--operator", "op1")
        assert out.returncode == 1 and "只读" in out.stderr and plain_chinese(out.stderr), out.stderr
        status = cli(data, "status")
        assert status.returncode == 0 and "待同步记录 1 条" in status.stdout, status.stderr
    assert event_count(data / "kiosk.db") == 1
