"""A database editor's attacks (issue 11: High 3, Medium 12), each performed with the
``sqlite3`` shell on the server's own file, and the real ``jifen-server audit`` process
naming what was changed; and a clean system that audits ok, so the checks can pass."""

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from server.services.review import list_items, resolve
from server.services.staff import SYSTEM, add_staff
from sync.signing import SigningKey
from tests.server.conftest import CARD_A, CARD_B

CLI = str(Path(sys.executable).parent / "jifen-server")
APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"


def sql(settings, script: str) -> None:
    """Edit the database behind the server's back with the sqlite3 shell (Python's
    sqlite3 module runs the same script where the shell is not installed)."""
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(settings.db_path)], input=script, text=True, check=True, timeout=60)
    else:
        conn = sqlite3.connect(settings.db_path)
        conn.executescript(script)
        conn.close()


def cli(settings, *argv) -> tuple[int, dict | str]:
    out = subprocess.run([CLI, *argv, "--data", str(settings.data_dir), "--json"], capture_output=True, text=True, timeout=600)
    try:
        return out.returncode, json.loads(out.stdout)
    except json.JSONDecodeError:
        return out.returncode, out.stdout + out.stderr


def audit_failures(settings) -> list[dict]:
    code, report = cli(settings, "audit")
    assert isinstance(report, dict), report
    assert code == (1 if report["failures"] else 0), (code, report)
    return report["failures"]


def named(failures: list[dict], check: str, *words: str) -> bool:
    return any(f["check"] == check and all(w in f"{f['subject']} {f['message']}" for w in words) for f in failures)


@pytest.fixture
def system(enrolled, ctx, settings):
    """Two kiosks that pushed, a resolved review item, a staff member, and a checkpoint over it all."""
    a, b = enrolled(1, "S01"), enrolled(2, "S02")
    assert a.push(a.batch(a.award(CARD_A, "ZYFW", 10), a.redeem(CARD_A, ("SOAP", 1, 30)))).status_code == 200
    assert b.push(b.batch(b.award(CARD_B, "TJJF", 8), b.redeem(CARD_B, ("SOAP", 1, 100_000)))).status_code == 200
    add_staff(ctx, SYSTEM, "bob", "community_manager", "a long enough passphrase 1", ["SQ01"])
    item = list_items(ctx, SYSTEM, open_only=True)[0]
    resolve(ctx, SYSTEM, item["id"], "accept", "checked with the shop")
    code, out = cli(settings, "checkpoint")
    assert code == 0, out
    return a, b, item["id"]


def test_a_clean_system_audits_ok_and_staff_work_after_a_checkpoint_is_explained(system, ctx, settings):
    a, _, _ = system
    assert audit_failures(settings) == []
    add_staff(ctx, SYSTEM, "carol", "auditor", "another long passphrase 2")  # audited: explained
    assert a.push(a.batch(a.award(CARD_A, "ZYFW", 10))).status_code == 200
    assert audit_failures(settings) == []
    code, out = cli(settings, "checkpoint")
    assert code == 0 and out["n"] == 2, out
    assert audit_failures(settings) == []


def test_a_posting_edited_after_the_last_checkpoint(system, settings):
    a, _, _ = system
    assert a.push(a.batch(a.award(CARD_A, "ZYFW", 10))).status_code == 200  # batch 2, not yet checkpointed
    event = f"{a.id}-3"
    sql(settings, f"""
        UPDATE postings SET amount = amount + 1000000 WHERE event = '{event}' AND account = 'resident:{CARD_A}';
        UPDATE postings SET amount = amount - 1000000 WHERE event = '{event}' AND account = 'programme:issued';
        UPDATE balances SET points = points + 1000000 WHERE account = 'resident:{CARD_A}';
        UPDATE balances SET points = points - 1000000 WHERE account = 'programme:issued';""")
    failures = audit_failures(settings)
    assert named(failures, "effects", f"{a.id}/2", event, "1000010"), failures
    assert {f["check"] for f in failures} == {"effects"}, failures  # sums and caches were kept consistent
    code, out = cli(settings, "checkpoint")
    assert code == 3 and "no checkpoint signed" in str(out), out  # the next checkpoint does not seal it


def test_a_kiosk_that_was_never_enrolled(system, settings):
    key = SigningKey(bytes([9]) * 32).public_hex
    sql(settings, f"""
        INSERT INTO kiosks(id, shop, label, public_key, enrolled_at) VALUES ('K0009', 'S01', 'rogue', '{key}', 0);
        INSERT INTO kiosk_keys(kiosk, public_key, from_seq, added_at) VALUES ('K0009', '{key}', 1, 0);""")
    failures = audit_failures(settings)
    assert named(failures, "keys", "K0009", "not bound by the server"), failures


def test_a_swapped_kiosk_key_pushing_through_the_api(system, settings):
    a, _, _ = system
    rogue = SigningKey(bytes([7]) * 32)
    sql(settings, f"""
        UPDATE kiosks SET public_key = '{rogue.public_hex}' WHERE id = '{a.id}';
        UPDATE kiosk_keys SET public_key = '{rogue.public_hex}' WHERE kiosk = '{a.id}';""")
    a.key = rogue
    assert a.push(a.batch(a.award(CARD_A, "ZYFW", 10))).status_code == 200  # the server takes it...
    failures = audit_failures(settings)  # ...audit does not
    assert named(failures, "keys", a.id, rogue.public_hex[:12], "not bound by the server"), failures
    assert named(failures, "kiosk_keys", a.id, "changed after checkpoint 1"), failures


@pytest.mark.parametrize("edit, words", [
    ("UPDATE staff SET password_hash = 'scrypt$1$1$1$00$00' WHERE username = 'bob';", ("staff", "'bob'", "changed")),
    ("UPDATE staff SET role = 'admin' WHERE username = 'bob';", ("staff", "'bob'", "changed")),
    ("PRAGMA foreign_keys=OFF; DELETE FROM staff_communities WHERE username = 'bob'; DELETE FROM staff WHERE username = 'bob';",
     ("staff", "'bob'", "removed")),
    ("INSERT INTO staff(username, role, password_hash, created_at) VALUES ('mallory', 'admin', 'x', 0);",
     ("staff", "'mallory'", "added")),
    ("INSERT INTO staff_communities(username, community) VALUES ('bob', 'SQ02');", ("staff_communities", "bob SQ02", "added")),
    ("INSERT INTO staff_tokens(token_hash, username, created_at, expires_at) VALUES ('ab', 'bob', 0, 99999999999999);",
     ("staff_tokens", "bob ab", "added")),
], ids=["staff-password", "role", "staff-deleted", "staff-inserted", "scope", "token"])
def test_staff_accounts_roles_scopes_and_tokens_edited(system, settings, edit, words):
    table, *rest = words
    sql(settings, edit)
    failures = audit_failures(settings)
    assert named(failures, table, *rest, "no audit log entry"), failures


@pytest.mark.parametrize("edit, change", [
    ("UPDATE resolutions SET action = 'write-off', points = 1000000 WHERE review = {item};", "changed"),
    ("DELETE FROM resolutions WHERE review = {item};", "removed"),
    ("INSERT INTO resolutions(review, action, staff, at, note) SELECT id, 'accept', 'bob', 0, 'x' FROM review_items "
     "WHERE id NOT IN (SELECT review FROM resolutions) LIMIT 1;", "added"),
    ("INSERT INTO pending_resolutions(review, action, points, bound, staff, at, note) SELECT id, 'adjust', 5, 5, 'bob', 0, 'x' "
     "FROM review_items WHERE id NOT IN (SELECT review FROM resolutions) LIMIT 1;", "added"),
], ids=["edited", "deleted", "inserted", "pending-inserted"])
def test_a_resolution_edited(system, settings, edit, change):
    _, _, item = system
    sql(settings, edit.format(item=item))
    failures = audit_failures(settings)
    assert any(f["check"] in ("resolutions", "pending_resolutions") and change in f["message"] for f in failures), failures


def test_an_audit_row_edited_with_the_trigger_dropped_and_put_back(system, settings):
    sql(settings, f"""
        DROP TRIGGER audit_log_no_update;
        UPDATE audit_log SET staff = 'nobody' WHERE action = 'review_resolve';
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        {APPEND_ONLY}""")
    failures = audit_failures(settings)
    assert named(failures, "audit_log", "review_resolve", "edited"), failures
    assert not any(f["check"] == "triggers" for f in failures)  # put back exactly: only the chain shows it


def test_an_audit_row_deleted(system, settings):
    sql(settings, f"""
        DROP TRIGGER audit_log_no_delete;
        DELETE FROM audit_log WHERE action = 'staff_add';
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        {APPEND_ONLY}""")
    failures = audit_failures(settings)
    assert named(failures, "audit_log", "removed"), failures


def test_an_audit_row_inserted(system, settings):
    sql(settings, """
        INSERT INTO audit_log(id, at, staff, action, subject, detail, hash)
            SELECT max(id) + 1, 0, 'admin', 'staff_add', 'mallory', '{}', '00' FROM audit_log;""")
    failures = audit_failures(settings)
    assert named(failures, "audit_log", "staff_add mallory", "inserted"), failures


@pytest.mark.parametrize("recreate", [
    "",  # dropped and left out
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN 0\n{APPEND_ONLY}",  # put back, disarmed
], ids=["dropped", "recreated-differently"])
def test_an_append_only_trigger_dropped_and_recreated(system, settings, recreate):
    sql(settings, f"DROP TRIGGER audit_log_no_update;\n{recreate}")
    failures = audit_failures(settings)
    assert named(failures, "triggers", "audit_log_no_update"), failures
