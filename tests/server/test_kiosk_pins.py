"""What a copied kiosk disk gives away of operators' PINs (issue 11, Medium 8): new PINs
are at least six digits (older ones keep working until changed), the hashes a kiosk mirrors
are peppered with a secret that is not in its database, and staff can make a lost kiosk's
operators' PINs stop working everywhere. A real kiosk (KioskService) over the real app."""

import shutil
import sqlite3

import pytest

from kiosk.errors import SignInRefused
from server.cli import main
from server.errors import Invalid
from server.services.manage import reset_operator_pin
from server.services.staff import SYSTEM
from sync.passwords import verify


def test_a_new_pin_needs_six_digits_and_an_old_short_one_still_works(inprocess_kiosk, app_server):
    svc = inprocess_kiosk()
    with pytest.raises(Invalid, match="6-8 digits"):
        reset_operator_pin(app_server.ctx, SYSTEM, "op1", "2580")
    assert svc.counter.sign_in("op1", "1234").id == "op1"  # the demo's 4-digit PIN, set before
    reset_operator_pin(app_server.ctx, SYSTEM, "op1", "258036")
    assert svc.sync().ok
    assert svc.counter.sign_in("op1", "258036").id == "op1"


def test_a_copied_kiosk_database_cannot_check_a_pin(inprocess_kiosk, tmp_path):
    """The attack: copy kiosk.db, read op1's hash, try PINs against it offline."""
    svc = inprocess_kiosk()
    copy = tmp_path / "stolen.db"
    for suffix in ("", "-wal"):  # the database as it lies on the disk
        shutil.copy(f"{svc.settings.db_path}{suffix}", f"{copy}{suffix}")
    stored = dict(sqlite3.connect(copy).execute("SELECT id, pin_hash FROM operators").fetchall())
    assert stored and all(h.startswith("pepper$") for h in stored.values())
    assert not verify("1234", stored["op1"])  # the right PIN, and still no match without the pepper
    pepper = svc.settings.pepper_path
    assert pepper.stat().st_mode & 0o777 == 0o600 and pepper.read_text().strip() not in copy.read_bytes().hex()
    assert verify("1234", stored["op1"], bytes.fromhex(pepper.read_text().strip()))  # what the whole disk gives


def test_a_lost_kiosks_operator_pins_stop_working_until_reset(inprocess_kiosk, server_dir, capsys, monkeypatch):
    lost, other = inprocess_kiosk("lost"), inprocess_kiosk("other")
    data = ["--data", str(server_dir)]
    assert main(["kiosk", "expire-pins", lost.kiosk_id, *data]) == 0, capsys.readouterr().err
    assert "op1" in capsys.readouterr().out
    assert other.sync().ok
    for op, pin in (("op1", "1234"), ("sup1", "9999")):
        with pytest.raises(SignInRefused):
            other.counter.sign_in(op, pin)
    monkeypatch.setenv("JIFEN_OPERATOR_PIN", "731902")
    assert main(["operator", "pin", "op1", *data]) == 0
    assert other.sync().ok
    assert other.counter.sign_in("op1", "731902").id == "op1"
