"""Fixtures for the compatibility suite: the real server in process over a copy of the
fault suite's demo data folder (a fresh copy per test)."""

import pytest

from tests.faults.conftest import T0, server_dir, server_template  # noqa: F401 - fixtures used here
from tests.faults.simnet import SimServer


@pytest.fixture
def server(server_dir):  # noqa: F811
    s = SimServer(server_dir, lambda: T0)
    s.start()
    yield s
    s.stop()
