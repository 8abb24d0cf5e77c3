"""The store contract on PostgreSQL: a fresh migrated database per test on the session's
throwaway cluster (``tests/pgcluster.py``; skipped, saying why, where PostgreSQL is not
installed)."""

import psycopg
import pytest

from server.store import open_store
from tests.server.store.contract import StoreContract


class TestPostgresStore(StoreContract):
    integrity_error = psycopg.IntegrityError

    @pytest.fixture
    def store(self, pg_database):
        s = open_store(pg_database)
        yield s
        s.close()

    @pytest.fixture
    def another_store(self, pg_database, store):
        s = open_store(pg_database)
        yield s
        s.close()
