"""Fixtures for kiosk tests: the root clock set to a morning at the counter, a fake server
behind MockTransport, and services on temporary data folders (reopenable, to prove
durability). Tests against the real server in process use the root conftest's."""

import pytest

from kiosk.service import KioskService
from kiosk.settings import Settings
from tests.conftest import Clock
from tests.kiosk.fakeserver import CODE, FakeServer

#: receipts, shift reports and the snapshots print this instant
COUNTER_T0 = 1_764_039_725_000  # 2025-11-25 10:22 Asia/Shanghai
KIOSK_SEED = bytes([1]) * 32


@pytest.fixture
def clock() -> Clock:
    return Clock(COUNTER_T0)


@pytest.fixture
def server(clock) -> FakeServer:
    return FakeServer(clock)


@pytest.fixture
def open_service(tmp_path, clock, server):
    """Open (or reopen) the kiosk on the same data folder."""
    opened = []

    def open_(data=None, **settings):
        svc = KioskService(Settings(data_dir=data or tmp_path / "kiosk", **settings), clock=clock,
                           transport=server.transport())
        opened.append(svc)
        return svc

    yield open_
    for svc in opened:
        try:
            svc.close()
        except Exception:
            pass


@pytest.fixture
def kiosk(open_service):
    """An enrolled kiosk that has pulled the mirror once."""
    svc = open_service()
    svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
    assert svc.sync().ok
    return svc
