"""Fixtures for the fault, attack and load suites: one demo server data folder built once
per session and copied per test, and the JIFEN_LONG / JIFEN_SEED switches."""

import os
import shutil
from pathlib import Path

import pytest

from server.services import open_context
from server.services.demo import demo_data
from server.settings import Settings

LONG = os.environ.get("JIFEN_LONG") == "1"
#: JIFEN_SEED=n reruns exactly one seed of a seeded suite
SEED = os.environ.get("JIFEN_SEED")

T0 = 1_767_225_600_000  # 2026-01-01 08:00 Asia/Shanghai


def seeds(short: int, long: int, base: int = 1) -> list[int]:
    """The seeds a seeded test runs: JIFEN_SEED alone, else ``short`` (``long`` with JIFEN_LONG=1)."""
    if SEED is not None:
        return [int(SEED)]
    return list(range(base, base + (long if LONG else short)))


@pytest.fixture(scope="session")
def server_template(tmp_path_factory) -> Path:
    """A server data folder with small demo data (30 residents, 3 communities)."""
    path = tmp_path_factory.mktemp("faults-template")
    ctx = open_context(Settings(data_dir=path, clock=lambda: T0))
    demo_data(ctx, residents=30, communities=3)
    ctx.close()
    return path


@pytest.fixture
def server_dir(tmp_path, server_template) -> Path:
    data = tmp_path / "server"
    shutil.copytree(server_template, data)
    return data
