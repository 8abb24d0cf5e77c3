"""Fixtures for server tests: the app over a copy of the demo data (root ``server_dir``) on
the root ``clock``, behind Litestar's TestClient, and enrolled kiosk doubles."""

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from server.settings import Settings
from tests.server.kiosk_double import KioskDouble

# Demo people the tests lean on (deterministic: seed 2024, 3 communities).
CARD_A = "5106810100001"
CARD_B = "5106810200001"


@pytest.fixture
def settings(server_dir, clock) -> Settings:
    return Settings(data_dir=server_dir, clock=clock)


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
        resp = k.enroll(enroll_code(ctx, SYSTEM, shop)["code"])
        assert resp.status_code == 200, resp.text
        return k

    return make


@pytest.fixture
def kiosk(enrolled) -> KioskDouble:
    return enrolled(1)
