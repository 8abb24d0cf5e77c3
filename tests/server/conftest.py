"""Fixtures for server tests: a demo data dir built once and copied per test, a fixed
clock, the app behind Litestar's TestClient, and enrolled kiosk doubles."""

import shutil
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.services import open_context
from server.services.demo import demo_data
from server.services.enroll import enroll_code
from server.settings import Settings
from tests.server.kiosk_double import KioskDouble

T0 = 1_767_225_600_000  # 2026-01-01 08:00 Asia/Shanghai

# Demo people the tests lean on (deterministic: seed 2024, 3 communities).
CARD_A = "5106810100001"
CARD_B = "5106810200001"


class FixedClock:
    def __init__(self, now: int = T0):
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template")
    ctx = open_context(Settings(data_dir=path, clock=FixedClock()))
    demo_data(ctx, residents=30, communities=3)
    ctx.close()
    return path


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path, template_dir, clock) -> Settings:
    data = tmp_path / "server"
    shutil.copytree(template_dir, data)
    return Settings(data_dir=data, clock=clock)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def ctx(client):
    """The running app's context: for looking at the database the app writes."""
    return client.app.state.ctx


@pytest.fixture
def enrolled(client, ctx, clock):
    """Make and enrol a kiosk double: ``enrolled(seed, shop='S01')``."""

    def make(seed: int = 1, shop: str = "S01") -> KioskDouble:
        k = KioskDouble(client, seed, clock)
        resp = k.enroll(enroll_code(ctx, shop)["code"])
        assert resp.status_code == 200, resp.text
        return k

    return make


@pytest.fixture
def kiosk(enrolled) -> KioskDouble:
    return enrolled(1)
