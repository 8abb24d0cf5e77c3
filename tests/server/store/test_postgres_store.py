"""The store contract on PostgreSQL: a fresh migrated database per test on the session's
throwaway cluster (``tests/pgcluster.py``; skipped, saying why, where PostgreSQL is not
installed)."""

import os
import signal
import subprocess
import sys
import threading

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


HOLDER = """
import sys, time
from server.store import open_store
from server.services.projector import SCOPE
store = open_store(sys.argv[1], migrate=False)
with store.projector_lease(SCOPE) as held:
    print("held" if held else "refused", flush=True)
    time.sleep(120)
"""


def lease_holders(dsn: str) -> list[str]:
    """The application names of the sessions holding a projector lease on this database."""
    from server.store.postgres import PROJECTOR_LOCK
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())", [PROJECTOR_LOCK])]


class TestProjectorLease:
    """One projector at a time across server processes, taken over when its process dies."""

    def test_a_second_store_is_refused_while_the_lease_is_held_and_granted_after(self, pg_database):
        from server.services.projector import SCOPE
        first, second = open_store(pg_database), open_store(pg_database)
        try:
            with first.projector_lease(SCOPE) as held:
                assert held
                assert lease_holders(pg_database) == [f"jifen-projector pid={os.getpid()}"]
                with second.projector_lease(SCOPE) as other:
                    assert not other
                with second.projector_lease("county:other") as other:  # another scope: its own lease
                    assert other
            with second.projector_lease(SCOPE) as other:
                assert other
        finally:
            first.close()
            second.close()

    def test_a_waiting_store_gets_the_lease_when_the_holder_releases_it(self, pg_database):
        from server.services.projector import SCOPE
        first, second = open_store(pg_database), open_store(pg_database)
        release = threading.Event()
        held = threading.Event()

        def hold():
            with first.projector_lease(SCOPE) as ok:
                assert ok
                held.set()
                release.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        try:
            assert held.wait(10)
            with second.projector_lease(SCOPE, wait=0.2) as got:
                assert not got  # timed out while held
            threading.Timer(0.3, release.set).start()
            with second.projector_lease(SCOPE, wait=10) as got:
                assert got
        finally:
            release.set()
            t.join(10)
            first.close()
            second.close()

    def test_the_lease_of_a_killed_process_is_taken_over(self, pg_database):
        from server.services.projector import SCOPE
        store = open_store(pg_database)
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, pg_database], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            assert lease_holders(pg_database) == [f"jifen-projector pid={holder.pid}"]
            with store.projector_lease(SCOPE) as got:
                assert not got
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            with store.projector_lease(SCOPE, wait=10) as got:  # PostgreSQL drops the dead session's lock
                assert got
                assert lease_holders(pg_database) == [f"jifen-projector pid={os.getpid()}"]
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait(5)
            store.close()
