"""The store contract on SQLite: a fresh migrated database file per test (a file, not
``:memory:``, so snapshot reads take their own connections as in the server)."""

import sqlite3

import pytest

from server.store import open_store
from tests.server.store.contract import StoreContract


class TestSqliteStore(StoreContract):
    integrity_error = sqlite3.IntegrityError

    @pytest.fixture
    def store(self, tmp_path):
        s = open_store(tmp_path / "server.db")
        yield s
        s.close()

    @pytest.fixture
    def another_store(self, tmp_path, store):
        s = open_store(tmp_path / "server.db")
        yield s
        s.close()
