"""Real processes and real HTTP: a ``jifen-server serve`` subprocess on a free loopback
port, kiosks enrolled through ``/v1/enroll`` with their own keys, and a pusher that sends
pre-signed batches from many simulated kiosks at once (asyncio + httpx, one connection
per kiosk, as a fleet of separate machines would).
"""

import asyncio
import os
import shutil
import signal
import sqlite3
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kiosk.client import Client
from server.services import open_context
from server.services.demo import load
from server.services.enroll import enroll_code
from server.services.manage import list_reference, set_shop_serves
from server.services.staff import SYSTEM
from server.settings import Settings
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from sync.signing import SigningKey

from bench.data import programme
from bench.harness import rss_mb

ROOT = Path(__file__).resolve().parent.parent


def command(tool: str) -> list[str]:
    """How to run ``jifen-server`` / ``jifen-kiosk`` from this checkout, whatever the
    venv's console scripts point at: this interpreter, this source tree."""
    module = {"jifen-server": "server.cli", "jifen-kiosk": "kiosk.cli"}[tool]
    return [sys.executable, "-c", f"import sys; from {module} import main; from bench.procs import report_peak; "
                                  f"code = main(); report_peak(); sys.exit(code)"]


def report_peak() -> None:
    """In a child: write this process's own peak RSS (VmHWM, in MB) where the parent
    asked (``JIFEN_BENCH_RSS``). The parent cannot use wait4's ru_maxrss: that counts
    the parent's own pages, shared with the child between fork and exec."""
    path = os.environ.get("JIFEN_BENCH_RSS")
    if path:
        Path(path).write_text(f"{rss_mb()[1]:.1f}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_server(data: Path, residents: int, cache: Path | None = None, database: str | None = None) -> Path:
    """A server data folder holding the programme (``residents`` people, 120 communities,
    opening balances and stock). Built once per size and copied after that. ``database``: a
    PostgreSQL URL to load it into instead (the folder then holds only the key)."""
    if cache is not None and database is None and (cache / "server.db").exists():
        if data.exists():
            shutil.rmtree(data)
        shutil.copytree(cache, data)
        return data
    ctx = open_context(Settings(data_dir=data, database=database))
    try:
        load(ctx, programme(residents))
    finally:
        ctx.close()  # the last connection to close checkpoints the WAL into server.db
    if cache is not None and database is None:
        shutil.copytree(data, cache)
    return data


def issue_codes(data: Path, shop: str, n: int, serve_all: bool = False, database: str | None = None) -> list[str]:
    """``n`` enrolment codes for ``shop``; ``serve_all``: the shop serves every community
    first, so its kiosks mirror the whole city (the worst case a first sync can meet).
    ``database``: the server's PostgreSQL URL, when it runs on one."""
    ctx = open_context(Settings(data_dir=data, database=database))
    try:
        if serve_all:
            set_shop_serves(ctx, SYSTEM, shop, [c["id"] for c in list_reference(ctx, SYSTEM, "communities")])
        return [enroll_code(ctx, SYSTEM, shop)["code"] for _ in range(n)]
    finally:
        ctx.close()


class ServerProcess:
    def __init__(self, data: Path, port: int | None = None, env: dict[str, str] | None = None):
        """``env``: server settings to run under (``{"JIFEN_PROJECTION": "background"}``)."""
        self.data = data
        self.env = env or {}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.projector: subprocess.Popen | None = None
        self.log = data.parent / f"server-{self.port}.log"

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "ServerProcess":
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [*command("jifen-server"), "serve", "--data", str(self.data), "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=child_env() | self.env,
        )
        if self.env.get("JIFEN_PROJECTION") == "separate":  # the fold in its own process, as deployed
            self.projector = subprocess.Popen(
                [*command("jifen-server"), "project", "--data", str(self.data)],
                stdout=log, stderr=subprocess.STDOUT, env=child_env() | self.env,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not come up: " + self.log.read_text()[-2000:])

    def rss(self) -> tuple[float, float]:
        return rss_mb(self.proc.pid)

    def log_position(self) -> tuple[int, int]:
        """(log head, projector cursor): how far the ledger has followed the acknowledgements."""
        return log_position(self.data)

    def projector_rss(self) -> tuple[float, float]:
        """The separate projector's (current, peak) RSS; zeros when the server projects itself."""
        return rss_mb(self.projector.pid) if self.projector else (0.0, 0.0)

    def stop(self) -> None:
        for proc in (self.proc, self.projector):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        self.proc = self.projector = None


@dataclass
class SimKiosk:
    """A kiosk as the server sees it: an id, a key, the next batch seq and hash."""

    id: str
    key: SigningKey
    shop: str


def enroll_kiosks(server: ServerProcess, shop: str, n: int, seed: str = "bench") -> list[SimKiosk]:
    """``n`` kiosks enrolled through the real /v1/enroll, each with its own key."""
    out = []
    for i, code in enumerate(issue_codes(server.data, shop, n, database=server.env.get("JIFEN_DATABASE"))):
        key = SigningKey(__import__("hashlib").sha256(f"{seed}:{shop}:{i}".encode()).digest())
        with Client(server.url, key, timeout=30) as client:
            reply = client.enroll(code, f"bench {shop} {i}")
        out.append(SimKiosk(reply.kiosk, key, reply.shop))
    return out


@dataclass
class PushRun:
    elapsed: float
    events: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: float = 0.0  # time.monotonic() of the first send

    @property
    def rate(self) -> float:
        return self.events / self.elapsed


async def _push_kiosk(client: httpx.AsyncClient, kiosk: str, batches: list[tuple[bytes, str]], run: PushRun) -> None:
    for body, sig in batches:
        t = time.perf_counter()
        try:
            r = await client.post("/v1/push", content=body, headers={HEADER_KIOSK: kiosk, HEADER_SIGNATURE: sig,
                                                                     "Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            run.errors.append(f"{kiosk}: {type(exc).__name__} {exc}")
            continue
        run.latencies.append(time.perf_counter() - t)
        if r.status_code != 200 or b'"status":"applied"' not in r.content:
            run.errors.append(f"{kiosk}: HTTP {r.status_code} {r.content[:200]!r}")


def push_batches(url: str, work: dict[str, list[tuple[bytes, str]]], events: int) -> PushRun:
    """Send every kiosk's batches in order, all kiosks at once; time first send to last ack."""

    async def main() -> PushRun:
        run = PushRun(0.0, events)
        limits = httpx.Limits(max_connections=len(work) + 4, max_keepalive_connections=len(work) + 4)
        async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
            t = time.perf_counter()
            run.started = time.monotonic()
            await asyncio.gather(*(_push_kiosk(client, k, b, run) for k, b in work.items()))
            run.elapsed = time.perf_counter() - t
        return run

    return asyncio.run(main())


#: the server as the ingest figures run it: acknowledge = append, the projector behind, in
#: the serving process (``background``) or in a ``jifen-server project`` process beside it
#: (``separate``: ``python -m bench --projection separate``)
BACKGROUND = {"JIFEN_PROJECTION": "background"}
PROJECTION_MODES = ("background", "separate")


def serving_env(mode: str = "background") -> dict[str, str]:
    """The server settings the serving figures run under for projection ``mode``."""
    if mode not in PROJECTION_MODES:
        raise ValueError(f"projection mode {mode!r}: expected one of {', '.join(PROJECTION_MODES)}")
    return {"JIFEN_PROJECTION": mode}


def log_position(data: Path) -> tuple[int, int]:
    """(log head, projector cursor) of the server database in ``data``, read-only."""
    conn = sqlite3.connect(f"file:{data / 'server.db'}?mode=ro", uri=True, timeout=30)
    try:
        head = conn.execute("SELECT coalesce(max(pos), 0) FROM ingest_log").fetchone()[0]
        first = conn.execute("SELECT min(pos) FROM ingest_log WHERE projected = 0").fetchone()[0]
        return head, head if first is None else first - 1
    finally:
        conn.close()


def wait_projected(data: Path, timeout: float = 600.0, poll: float = 0.02) -> float:
    """Wait until the projector has caught up with the log; the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head, cursor = log_position(data)
        if cursor >= head:
            return time.monotonic()
        time.sleep(poll)
    raise RuntimeError(f"the projector did not catch up within {timeout:g}s")


def child_env() -> dict:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
