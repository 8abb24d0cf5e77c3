"""A throwaway PostgreSQL cluster for tests: ``initdb`` into a temporary folder, ``pg_ctl``
on a free loopback port (its unix socket in the same folder), a DSN, then stop and remove.

``find_bin()`` looks in ``/usr/lib/postgresql/*/bin`` (newest first) and then PATH. When
run as root the cluster belongs to the ``postgres`` OS user (PostgreSQL refuses to run as
root). With no PostgreSQL installed the tests that need it are skipped with the reason —
except in CI (``CI=true``), where a missing PostgreSQL is a failure: ``make setup``
installs it.

The cluster is tuned for tests (``fsync=off``): it is thrown away, and durability is what
the SQLite suites and PostgreSQL's own tests check, not these.

``standby(name)`` makes a streaming-replication standby of a running cluster as
docs/DEPLOY.md tells an operator to (a physical replication slot, ``pg_basebackup -X stream
-R``, ``application_name`` = ``name`` in ``primary_conninfo``); ``synchronous(name)`` makes
the primary wait for it at every commit (``synchronous_standby_names``), ``stop_hard()``
ends a cluster as a crash would (``pg_ctl stop -m immediate``) and ``promote()`` turns a
standby into the primary (``pg_ctl promote``).
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from server.store.pg_backup import tool_dir


def find_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None (looked for as the server looks
    for ``pg_dump``: ``server.store.pg_backup.tool_dir``)."""
    return tool_dir("initdb")


def unavailable(reason: str) -> None:
    """Skip (or, in CI, fail) the test that needs PostgreSQL."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is needed in CI: {reason} (make setup installs it)", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One running cluster; ``dsn`` reaches its ``postgres`` database over TCP loopback."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="jifen-pg-"))
        self.options = ""
        self.running = False
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            pwd.getpwnam("postgres")  # KeyError: the package that installs PostgreSQL creates it
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)
            self._as = ["runuser", "-u", "postgres", "--"]
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self, durable: bool = False, replicated: bool = False) -> "Cluster":
        """``durable``: PostgreSQL's own durable defaults (fsync, synchronous commit), as the
        benchmarks run it (``bench/postgres.py``); tests leave them off. ``replicated``:
        commits are synchronous (``synchronous_commit = on``, so a synchronous standby is
        waited for) while fsync stays off: a primary for ``standby``."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self.options = self._options(durable, replicated)
        self._pg_ctl_start()
        return self

    def _options(self, durable: bool, replicated: bool) -> str:
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                   "-c max_connections=200")
        if not durable:
            options += " -c fsync=off -c full_page_writes=off"
            if not replicated:
                options += " -c synchronous_commit=off"
        return options

    def _pg_ctl_start(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                  "-t", "60", "-o", self.options, "start")
        self.running = True

    def sql(self, query: str, params: list | None = None, database: str = "postgres") -> list[tuple]:
        """One statement in autocommit; its rows (none for a statement without)."""
        import psycopg
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def standby(self, name: str = "standby1") -> "Cluster":
        """A streaming standby of this (running) cluster, started: a replication slot
        ``name`` on this primary, a base backup of it taken with ``pg_basebackup -X stream
        -S name -R`` (which writes ``standby.signal`` and ``primary_conninfo``), and
        ``application_name=name`` added to that conninfo, the name
        ``synchronous_standby_names`` refers to. Returns once it streams."""
        self.sql("SELECT pg_create_physical_replication_slot(%s)", [name])
        other = Cluster(self.bindir)
        other.options = other._options(durable=False, replicated=True)
        self._run(str(self.bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                  "-D", str(other.data), "-X", "stream", "-S", name, "-R", "--no-sync", "--checkpoint=fast")
        auto = other.data / "postgresql.auto.conf"
        conninfo = next(line for line in auto.read_text().splitlines() if line.startswith("primary_conninfo"))
        with open(auto, "a") as f:  # a later line wins: the same conninfo, naming the standby
            f.write(conninfo.rstrip("'") + f" application_name={name}'\n")
        other._pg_ctl_start()
        self.wait_for(f"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{name}'"
                      " AND state = 'streaming'", what=f"standby {name} streaming")
        return other

    def synchronous(self, name: str) -> None:
        """Every commit waits until the standby ``name`` has the commit's WAL on disk."""
        self.sql(f"ALTER SYSTEM SET synchronous_standby_names = '{name}'")
        self.sql("SELECT pg_reload_conf()")
        self.wait_for(f"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{name}'"
                      " AND sync_state = 'sync'", what=f"standby {name} synchronous")

    def wait_for(self, query: str, what: str, timeout: float = 30) -> None:
        """Until ``query`` (one count) answers non-zero."""
        deadline = time.monotonic() + timeout
        while self.sql(query)[0][0] == 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not after {timeout} s ({(self.root / 'log').read_text()[-2000:]})")
            time.sleep(0.05)

    def stop_hard(self) -> None:
        """End the cluster as a crash would (``pg_ctl stop -m immediate``: no shutdown
        checkpoint, clients cut off); its folder stays until ``stop``."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.running = False

    def promote(self) -> None:
        """A standby becomes a primary that takes writes (``pg_ctl promote``, waited for)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "promote")
        deadline = time.monotonic() + 30
        while self.sql("SELECT pg_is_in_recovery()")[0][0]:
            if time.monotonic() > deadline:
                raise RuntimeError("the promoted standby is still in recovery")
            time.sleep(0.05)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database on this cluster (empty, or a copy of the database ``template``,
        which nothing may be connected to); its DSN."""
        import psycopg
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.dsn(name)

    def stop(self) -> None:
        try:
            if self.running and (self.data / "postmaster.pid").exists():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
