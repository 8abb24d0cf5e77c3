"""What every suite shares: one clock, one demo server data folder, one in-process server.

- ``Clock``: integer UTC milliseconds, fixed until a test sets ``now`` or calls ``advance``.
  The server's ``Settings(clock=...)`` and ``KioskService(clock=...)`` both take it, so a test
  moves time for either side the same way.
- ``server_template`` is a server data folder with demo data, built once per session;
  ``server_dir`` is a fresh copy of it for one test. The template is never written to after
  it is built, so every copy costs the same however many tests ran before.
- ``InProcessServer`` is the real app (``create_app``) over a data folder behind Litestar's
  ``TestClient``, stoppable and restartable from its files; ``AppTransport`` is the httpx
  transport that hands a kiosk's requests to it, so the kiosk's own sync client runs
  unchanged with no socket. Kiosk, fault and end-to-end tests in process all use it.
- The browser tests (``tests/console*``) run last: pytest-playwright's sync API keeps an
  event loop running in the main thread from its first test to the end of the session, and
  every asyncio test after it would fail ("cannot be called from a running event loop").
"""

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from kiosk.service import KioskService
from kiosk.settings import Settings as KioskSettings
from server.app import create_app
from server.services import open_context
from server.services.demo import demo_data
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from server.settings import Settings


def pytest_collection_modifyitems(session, config, items):
    """The browser tests last (see the module's docstring), each group in its own order."""
    def in_browser(item) -> bool:
        parts = Path(str(item.fspath)).parts
        return "tests" in parts and parts[parts.index("tests") + 1].startswith("console")
    items[:] = [i for i in items if not in_browser(i)] + [i for i in items if in_browser(i)]

T0 = 1_767_225_600_000  # 2026-01-01 08:00 Asia/Shanghai
SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

#: the demo data every server-side suite starts from (deterministic: seed 2024)
DEMO_RESIDENTS, DEMO_COMMUNITIES = 30, 3
#: request headers a kiosk's request carries to the server (httpx adds its own others)
FORWARDED = ("content-type", "jifen-kiosk", "jifen-signature", "jifen-version")


class Clock:
    """Now, in integer UTC milliseconds; fixed until a test moves it."""

    def __init__(self, now: int = T0):
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _files(path: Path) -> dict[str, tuple[int, int]]:
    return {f.name: (f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(path.iterdir())}


@pytest.fixture(scope="session")
def server_template(tmp_path_factory) -> Path:
    """A server data folder with the demo data (30 residents, 3 communities), built at T0.
    Checked unchanged at the end: a test that opened it instead of a copy would make every
    later copy bigger and every later test see its writes."""
    path = tmp_path_factory.mktemp("server-template")
    ctx = open_context(Settings(data_dir=path, clock=Clock()))
    demo_data(ctx, residents=DEMO_RESIDENTS, communities=DEMO_COMMUNITIES)
    ctx.close()
    built = _files(path)
    yield path
    assert _files(path) == built, f"a test wrote into the demo template {path}; use server_dir"


@pytest.fixture
def server_dir(tmp_path, server_template) -> Path:
    """This test's own copy of the demo server data folder."""
    data = tmp_path / "server"
    shutil.copytree(server_template, data)
    return data


class InProcessServer:
    """The real app over ``settings.data_dir`` behind ``TestClient``; ``restart()`` drops it
    and opens the same files again. Unhandled errors become 500 answers (as over HTTP) and
    are kept in ``errors``, which a test expects empty."""

    def __init__(self, settings: Settings, limiter_clock: Callable[[], float] | None = None):
        self.settings = settings
        self.limiter_clock = limiter_clock  # seconds; None keeps the real monotonic clock
        self.client: TestClient | None = None
        self.errors: list[str] = []

    @property
    def up(self) -> bool:
        return self.client is not None

    @property
    def ctx(self):
        return self.client.app.state.ctx

    def start(self) -> "InProcessServer":
        self.client = TestClient(create_app(self.settings), raise_server_exceptions=False)
        self.client.__enter__()
        if self.limiter_clock is not None:
            self.ctx.limits.set_clock(self.limiter_clock)
        return self

    def stop(self) -> None:
        if self.client is not None:
            self.client.__exit__(None, None, None)
            self.client = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def deliver(self, method: str, path: str, content: bytes, headers: dict) -> httpx.Response:
        resp = self.client.request(method, path, content=content, headers=headers)
        if resp.status_code >= 500:
            self.errors.append(f"{method} {path} -> {resp.status_code} {resp.text[:300]}")
        return resp


class AppTransport(httpx.BaseTransport):
    """A kiosk's wire to an ``InProcessServer``. ``lose_replies``: the server handles the next
    n requests and the kiosk hears nothing (a crash or a cut before it read the reply);
    ``rewrite``: a party in the middle may change any response; ``seen`` keeps every exchange."""

    def __init__(self, server: InProcessServer):
        self.server = server
        self.lose_replies = 0
        self.rewrite: Callable[[httpx.Request, httpx.Response], httpx.Response] | None = None
        self.seen: list[tuple[httpx.Request, httpx.Response]] = []

    @staticmethod
    def call(request: httpx.Request) -> tuple[str, str, bytes, dict]:
        """The request as the server receives it: method, path, body, the kiosk's headers."""
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        return request.method, request.url.path, request.read(), headers

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.server.up:
            raise httpx.ConnectError("server down", request=request)
        r = self.server.deliver(*self.call(request))
        if self.lose_replies:
            self.lose_replies -= 1
            raise httpx.ReadTimeout("reply lost", request=request)
        resp = httpx.Response(r.status_code, headers=r.headers, content=r.content, request=request)
        self.seen.append((request, resp))
        return self.rewrite(request, resp) if self.rewrite else resp


@pytest.fixture
def app_server(server_dir, clock):
    """The real app over this test's copy of the demo data, on the test's clock."""
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock)).start()
    yield server
    server.stop()


@pytest.fixture
def wire(app_server) -> AppTransport:
    return AppTransport(app_server)


@pytest.fixture
def inprocess_kiosk(tmp_path, app_server, wire, clock):
    """``inprocess_kiosk(name, shop='S01')``: a KioskService over ``wire``, enrolled and
    synced once; with ``data=`` it reopens a kiosk folder as it is (no enrolment)."""
    made: list[KioskService] = []

    def make(name: str = "kiosk", shop: str = "S01", data: Path | None = None, seed: bytes | None = None,
             **settings) -> KioskService:
        settings.setdefault("lang", "en")
        svc = KioskService(KioskSettings(data_dir=data or tmp_path / name, **settings), clock=clock, transport=wire)
        made.append(svc)
        if data is None:
            svc.enroll("http://central.test", enroll_code(app_server.ctx, SYSTEM, shop)["code"], seed=seed)
            assert svc.sync().ok
        return svc

    yield make
    for svc in made:
        svc.close()


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the whole session (``tests/pgcluster.py``);
    skipped with the reason when PostgreSQL is not installed (a failure in CI)."""
    from tests import pgcluster
    bindir = pgcluster.find_bin()
    if bindir is None:
        pgcluster.unavailable("initdb not found in /usr/lib/postgresql/*/bin or PATH")
    cluster = pgcluster.Cluster(bindir).start()
    yield cluster
    cluster.stop()


_pg_databases = itertools.count(1)


@pytest.fixture
def pg_database(pg_cluster) -> str:
    """The DSN of a new empty database on the session's cluster, for one test."""
    return pg_cluster.create_database(f"t{next(_pg_databases)}")
