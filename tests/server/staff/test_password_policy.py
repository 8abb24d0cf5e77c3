"""Staff passwords follow a policy (length, not a common password, not the username) and
usernames ignore letter case: ``Admin`` beside ``admin`` was accepted, and so were
``password`` and ``12345678``."""

import sqlite3

from schema.server_db import INITIALS_FUNCTION
from sync.initials import initials

import pytest

from schema.server_db import MIGRATIONS
from server.services import staff
from server.services.staff import SYSTEM, common_passwords
from server.store import open_store
from server.store.db import MigrationRefused
from tests.server.staff.conftest import PASSWORD


@pytest.mark.parametrize("weak", ["12345678", "password", "qwertyuiop", "1q2w3e4r5t", "Password123", "aaaaaaaaaaaa",
                                  "ababababab"])
def test_weak_passwords_are_refused_over_the_api(client, login, weak):
    resp = client.post("/api/staff", headers=login("admin"), json={"username": "newbie", "role": "auditor", "password": weak})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_input", weak
    resp = client.put("/api/staff/rex/password", headers=login("admin"), json={"password": weak})
    assert resp.status_code == 422, weak


def test_the_common_list_ships_in_the_package():
    assert {"password", "123456", "qwertyuiop", "1234567890"} <= common_passwords() and len(common_passwords()) > 1000


def test_a_strong_password_is_accepted(client, login):
    resp = client.post("/api/staff", headers=login("admin"), json={"username": "newbie", "role": "auditor", "password": "violet tram 42 hum"})
    assert resp.status_code == 201, resp.text


def test_a_username_differing_only_in_case_is_the_same_account(client, login):
    resp = client.post("/api/staff", headers=login("admin"), json={"username": "ADA", "role": "admin", "password": "violet tram 42 hum"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "conflict"
    signed = client.post("/api/session", json={"username": "Ada", "password": PASSWORD})
    assert signed.status_code == 200 and signed.json()["staff"]["username"] == "ada"
    h = {"Authorization": f"Bearer {signed.json()['token']}"}
    assert client.post("/api/staff/ADA/disable", headers=h).status_code == 422  # still your own account


def test_the_migration_refuses_a_database_with_case_twins(tmp_path):
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    conn.create_function(INITIALS_FUNCTION, 1, initials)  # migration 11 fills residents' initials with it
    twins = next(v for v, sql in MIGRATIONS if "lower(username)" in sql)  # the migration under test
    before = [(v, sql) for v, sql in MIGRATIONS if v < twins]
    for _, sql in before:
        conn.executescript(sql)
    conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", [str(before[-1][0])])
    for name in ("admin", "Admin"):
        conn.execute("INSERT INTO staff(username, role, password_hash, created_at) VALUES (?, 'admin', 'x', 0)", [name])
    conn.commit()
    conn.close()
    with pytest.raises(MigrationRefused, match="differ only in letter case"):
        open_store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(before[-1][0])
    conn.execute("DELETE FROM staff WHERE username = 'Admin'")
    conn.commit()
    conn.close()
    store = open_store(path)
    assert store.schema_version() == MIGRATIONS[-1][0]
    store.close()


def test_a_password_holding_the_username_is_refused(client, login):
    resp = client.put("/api/staff/rex/password", headers=login("admin"), json={"password": "Rex-the-reconciler"})
    assert resp.status_code == 422 and "username" in resp.json()["error"]["message"]
    assert staff.password_problem("admin-password-1", "admin") is not None
    assert staff.password_problem("violet tram 42 hum", "admin") is None
    assert SYSTEM.role == "admin"
