"""A throwaway PostgreSQL cluster for tests: ``initdb`` into a temporary folder, ``pg_ctl``
on a free loopback port (its unix socket in the same folder), a DSN, then stop and remove.

``find_bin()`` looks in ``/usr/lib/postgresql/*/bin`` (newest first) and then PATH. When
run as root the cluster belongs to the ``postgres`` OS user (PostgreSQL refuses to run as
root). With no PostgreSQL installed the tests that need it are skipped with the reason —
except in CI (``CI=true``), where a missing PostgreSQL is a failure: ``make setup``
installs it.

The cluster is tuned for tests (``fsync=off``): it is thrown away, and durability is what
the SQLite suites and PostgreSQL's own tests check, not these.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
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

    def start(self, durable: bool = False) -> "Cluster":
        """``durable``: PostgreSQL's own durable defaults (fsync, synchronous commit), as the
        benchmarks run it (``bench/postgres.py``); tests leave them off."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                   "-c max_connections=200")
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                  "-t", "60", "-o", options, "start")
        return self

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
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
