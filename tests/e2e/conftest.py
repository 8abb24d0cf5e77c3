"""Real processes for end-to-end tests: a `jifen-server serve` on a free loopback port,
started from its data folder (a copy of the root demo template), stopped (or SIGKILLed)
and started again like a real one."""

import json
import os
import signal
import sqlite3
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService

BIN = Path(sys.executable).parent


def cli(name: str, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a console script of this install; ``--json`` output is parsed by the caller."""
    proc = subprocess.run([str(BIN / name), *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{name} {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cli_json(name: str, *args: str):
    return json.loads(cli(name, *args, "--json").stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """One real server process over one data folder; restartable on the same port."""

    def __init__(self, data: Path, port: int):
        self.data = data
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.log = data.parent / f"server-{port}.log"

    def start(self, env: dict[str, str] | None = None) -> "ServerProcess":
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "jifen-server"), "serve", "--data", str(self.data), "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("server did not come up: " + self.log.read_text()[-2000:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return cli("jifen-server", *args, "--data", str(self.data), check=check)

    def json(self, *args: str):
        return json.loads(self.cli(*args, "--json").stdout)

    def enroll_code(self, shop: str = "S01") -> str:
        return self.json("enroll-code", "--shop", shop)["code"]


class ProjectorProcess:
    """A real ``jifen-server project`` process over a server's data folder (the serving
    process runs with ``JIFEN_PROJECTION=separate``), optionally with a crash point armed."""

    def __init__(self, data: Path):
        self.data = data
        self.proc: subprocess.Popen | None = None
        self.log = data.parent / "projector.log"

    def start(self, crash_at: str | None = None) -> "ProjectorProcess":
        env = {k: v for k, v in os.environ.items() if k != "JIFEN_CRASH_AT"}
        env["JIFEN_PROJECTION"] = "separate"  # it opens the folder without projecting on open; its loop does
        if crash_at:
            env["JIFEN_CRASH_AT"] = crash_at
        self.proc = subprocess.Popen([str(BIN / "jifen-server"), "project", "--data", str(self.data)],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, env=env)
        return self

    def positions(self) -> tuple[int, int]:
        """(log head, projector cursor), read from the database file."""
        with closing(sqlite3.connect(self.data / "server.db")) as db:
            head = db.execute("SELECT coalesce(max(pos), 0) FROM ingest_log").fetchone()[0]
            first = db.execute("SELECT min(pos) FROM ingest_log WHERE projected = 0").fetchone()[0]
        return head, head if first is None else first - 1

    def caught_up(self, wait: float = 30) -> bool:
        """Wait until the ledger holds the whole log."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            head, cursor = self.positions()
            if head == cursor:
                return True
            time.sleep(0.05)
        return False

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        code = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                code = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        elif self.proc:
            code = self.proc.returncode
        self.proc = None
        return code


@pytest.fixture
def server(server_dir):
    """A real server process over this test's copy of the root demo template."""
    srv = ServerProcess(server_dir, free_port()).start()
    yield srv
    srv.stop()


@pytest.fixture
def make_kiosk(tmp_path, server):
    """Enrol a kiosk over real HTTP and pull its first mirror; returns its service."""
    made: list[KioskService] = []

    def make(name: str, shop: str = "S01") -> KioskService:
        svc = KioskService(kiosk_settings.load(tmp_path / name, lang="en", timeout=3.0))
        svc.enroll(server.url, server.enroll_code(shop))
        assert svc.sync().ok
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()
