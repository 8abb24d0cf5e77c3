"""The server database migrates forward and records its version."""

import sqlite3

from schema.server_db import MIGRATIONS, SCHEMA_VERSION, pending
from server.store import catalog, open_store


def test_pending_lists_only_newer_migrations_in_order():
    migs = [(2, "b"), (1, "a"), (3, "c")]
    assert pending(0, migs) == [(1, "a"), (2, "b"), (3, "c")]
    assert pending(2, migs) == [(3, "c")]
    assert pending(3, migs) == []


def test_versions_are_unique_and_increasing():
    versions = [v for v, _ in MIGRATIONS]
    assert versions == sorted(set(versions)) and versions[0] == 1


def test_open_migrates_once_and_sets_pragmas(tmp_path):
    store = open_store(tmp_path / "s.db")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.migrate() == []
    with store.read() as db:
        assert db.sql.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.sql.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.sql.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_a_failed_write_leaves_nothing(tmp_path):
    store = open_store(tmp_path / "s.db")
    try:
        with store.write() as db:
            catalog.set_meta_value(db, "x", "y")
            raise KeyError("boom")
    except KeyError:
        pass
    with store.read() as db:
        assert catalog.meta_value(db, "x") is None
