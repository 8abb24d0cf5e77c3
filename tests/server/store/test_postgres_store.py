"""The store contract on PostgreSQL: a fresh migrated database per test on the session's
throwaway cluster (``tests/pgcluster.py``; skipped, saying why, where PostgreSQL is not
installed)."""

import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from server.store import open_store
from server.store import chain
from tests.server.store.contract import T, StoreContract, seed_places, store_batch


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


def waiting_for(dsn: str, classid: int | None) -> int:
    """How many sessions on this database wait for an advisory lock (of ``classid``, the
    first of a two-int key; None: the one-bigint writer lock)."""
    kind = "l.objsubid = 1" if classid is None else f"l.objsubid = 2 AND l.classid = {int(classid)}"
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM pg_locks l WHERE l.locktype = 'advisory' AND NOT l.granted AND {kind}"
                            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()[0]


def wait_until(check, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the state waited for never came"
        time.sleep(0.02)


class TestKeyedWrites:
    """``write_keyed`` on PostgreSQL: two processes' keyed writes of different kiosks run at
    once; one kiosk's take turns (its chain lock); an unkeyed write waits for every keyed
    one (the writer lock, shared by keyed writes, exclusive for the rest), and keyed writes
    wait for it."""

    def test_keyed_writes_of_two_kiosks_run_at_once_and_of_one_kiosk_in_turn(self, pg_database):
        from server.store.postgres import CHAIN_LOCK
        first, second, third = open_store(pg_database), open_store(pg_database), open_store(pg_database)
        try:
            with first.write() as db:
                seed_places(db)
                chain.insert_kiosk(db, "K0002", "S1", "till 2", "bb" * 32, T)
            inside, leave = threading.Event(), threading.Event()

            def hold(db):
                store_batch(db, 1, "K0001")
                inside.set()
                assert leave.wait(30)

            holder = threading.Thread(target=first.write_keyed, args=("K0001", hold))
            holder.start()
            assert inside.wait(20)
            # another kiosk's keyed write, from another process, commits while K0001's is open
            second.write_keyed("K0002", lambda db: store_batch(db, 1, "K0002"))
            with third.read() as db:
                assert chain.batch_at(db, "K0002", 1) is not None and chain.batch_at(db, "K0001", 1) is None
            # the same kiosk's keyed write waits for the chain lock, then sees the first's batch
            seen: list = []
            same = threading.Thread(target=second.write_keyed, args=("K0001", lambda db: seen.append(chain.batch_at(db, "K0001", 1))))
            same.start()
            wait_until(lambda: waiting_for(pg_database, CHAIN_LOCK) == 1)
            # an unkeyed write (staff, the projector) waits for the keyed writes in flight
            unkeyed: list = []
            staff = threading.Thread(target=lambda: unkeyed.append(third.write_grouped(lambda db: chain.batch_at(db, "K0001", 1))))
            staff.start()
            wait_until(lambda: waiting_for(pg_database, None) == 1)
            assert not seen and not unkeyed
            leave.set()
            for t in (holder, same, staff):
                t.join(20)
            assert seen and seen[0] is not None and unkeyed and unkeyed[0] is not None
        finally:
            leave.set()
            for s in (first, second, third):
                s.close()

    def test_log_positions_commit_out_of_order_and_an_unkeyed_write_sees_them_all(self, pg_database):
        """Why the projector checks its chunk's range under the exclusive lock: two kiosks'
        pushes take log positions n and n+1 and the second commits first, so a snapshot sees
        n+1 without n; an unkeyed write (the projector's) starts only once n is committed too."""
        from server.store import log
        first, second, third = open_store(pg_database), open_store(pg_database), open_store(pg_database)
        try:
            with first.write() as db:
                seed_places(db)
                chain.insert_kiosk(db, "K0002", "S1", "till 2", "bb" * 32, T)
            inside, leave, pos = threading.Event(), threading.Event(), {}

            def slow(db):
                store_batch(db, 1, "K0001")
                pos["n"] = log.append(db, "K0001", 1, T)
                inside.set()
                assert leave.wait(30)

            holder = threading.Thread(target=first.write_keyed, args=("K0001", slow))
            holder.start()
            assert inside.wait(20)

            def fast(db):
                store_batch(db, 1, "K0002")
                return log.append(db, "K0002", 1, T)

            later = second.write_keyed("K0002", fast)
            assert later > pos["n"]
            with third.read() as db:  # what a projector's snapshot read sees
                assert log.waiting_below(db, later, None) == 1 and log.head(db) == later
            counted: list = []
            projector = threading.Thread(target=lambda: counted.append(
                third.write_grouped(lambda db: log.waiting_below(db, later, None))))
            projector.start()
            wait_until(lambda: waiting_for(pg_database, None) == 1)
            leave.set()
            for t in (holder, projector):
                t.join(20)
            assert counted == [2]
        finally:
            leave.set()
            for s in (first, second, third):
                s.close()

    def test_a_keyed_write_waits_for_an_unkeyed_write_in_flight(self, pg_database):
        first, second = open_store(pg_database), open_store(pg_database)
        try:
            with first.write() as db:
                seed_places(db)
            inside, leave, seen = threading.Event(), threading.Event(), []

            def staff():
                with first.write() as db:
                    chain.set_kiosk_status(db, "K0001", "revoked")
                    inside.set()
                    assert leave.wait(30)

            t = threading.Thread(target=staff)
            t.start()
            assert inside.wait(20)
            push = threading.Thread(target=second.write_keyed,
                                    args=("K0001", lambda db: seen.append(chain.kiosk_by_id(db, "K0001")["status"])))
            push.start()
            wait_until(lambda: waiting_for(pg_database, None) == 1)
            assert not seen
            leave.set()
            for th in (t, push):
                th.join(20)
            assert seen == ["revoked"]  # it read the kiosk after the staff write's commit
        finally:
            leave.set()
            first.close()
            second.close()


HOLDER = """
import sys, time
from server.store import open_store
from server.services.projector import lease_scope
store = open_store(sys.argv[1], migrate=False)
with store.projector_lease(lease_scope("")) as held:
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
        from server.services.projector import lease_scope
        first, second = open_store(pg_database), open_store(pg_database)
        try:
            with first.projector_lease(lease_scope('')) as held:
                assert held
                assert lease_holders(pg_database) == [f"jifen-projector pid={os.getpid()}"]
                with second.projector_lease(lease_scope('')) as other:
                    assert not other
                with second.projector_lease("county:other") as other:  # another scope: its own lease
                    assert other
            with second.projector_lease(lease_scope('')) as other:
                assert other
        finally:
            first.close()
            second.close()

    def test_a_waiting_store_gets_the_lease_when_the_holder_releases_it(self, pg_database):
        from server.services.projector import lease_scope
        first, second = open_store(pg_database), open_store(pg_database)
        release = threading.Event()
        held = threading.Event()

        def hold():
            with first.projector_lease(lease_scope('')) as ok:
                assert ok
                held.set()
                release.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        try:
            assert held.wait(10)
            with second.projector_lease(lease_scope(''), wait=0.2) as got:
                assert not got  # timed out while held
            threading.Timer(0.3, release.set).start()
            with second.projector_lease(lease_scope(''), wait=10) as got:
                assert got
        finally:
            release.set()
            t.join(10)
            first.close()
            second.close()

    def test_the_lease_of_a_killed_process_is_taken_over(self, pg_database):
        from server.services.projector import lease_scope
        store = open_store(pg_database)
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, pg_database], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            assert lease_holders(pg_database) == [f"jifen-projector pid={holder.pid}"]
            with store.projector_lease(lease_scope("")) as got:
                assert not got
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            with store.projector_lease(lease_scope(''), wait=10) as got:  # PostgreSQL drops the dead session's lock
                assert got
                assert lease_holders(pg_database) == [f"jifen-projector pid={os.getpid()}"]
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait(5)
            store.close()
