"""Switches for the fault, attack and load suites: JIFEN_LONG runs the longer variants,
JIFEN_SEED=n reruns exactly one seed of a seeded suite. (The demo server folder, clock and
in-process server are the root conftest's; here they are on the test's backend: SQLite
unless the test parametrizes ``backend`` over ``backends.BACKENDS``, as ``on_both`` does.)

On PostgreSQL a suite runs a representative part of its cases by default (``on_both``'s
``pg``: a seed, the kill points that matter); JIFEN_LONG=1 runs every case on both."""

import itertools
import os
import shutil
from pathlib import Path

import pytest

from tests.faults.backends import ServerDb

LONG = os.environ.get("JIFEN_LONG") == "1"
#: JIFEN_SEED=n reruns exactly one seed of a seeded suite
SEED = os.environ.get("JIFEN_SEED")


def seeds(short: int, long: int, base: int = 1) -> list[int]:
    """The seeds a seeded test runs: JIFEN_SEED alone, else ``short`` (``long`` with JIFEN_LONG=1)."""
    if SEED is not None:
        return [int(SEED)]
    return list(range(base, base + (long if LONG else short)))


def on_both(cases, pg=None) -> list:
    """``pytest.mark.parametrize`` values for ``("backend", ...)`` (with ``indirect=["backend"]``):
    every case on SQLite; on PostgreSQL the cases ``pg`` keeps (a predicate on a case's values;
    None: all), or every case with JIFEN_LONG=1 or a JIFEN_SEED. A case is a value or a tuple."""
    cases = [c if isinstance(c, tuple) else (c,) for c in cases]
    keep = (lambda *c: True) if pg is None or LONG or SEED is not None else pg
    return [("sqlite", *c) for c in cases] + [("postgresql", *c) for c in cases if keep(*c)]


# ---------------------------------------------------------------- the server's database

_copies = itertools.count(1)


@pytest.fixture
def backend(request) -> str:
    """``sqlite`` unless the test parametrizes it (``indirect=True``) over ``BACKENDS``."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_template(pg_cluster, tmp_path_factory) -> tuple[Path, str]:
    """The root template's demo data in a PostgreSQL database, built once: (its key folder,
    the database's name). A test's database is a copy (``CREATE DATABASE … TEMPLATE``)."""
    from server.services import open_context
    from server.services.demo import demo_data
    from tests.conftest import DEMO_COMMUNITIES, DEMO_RESIDENTS, Clock

    folder = tmp_path_factory.mktemp("pg-template")
    name = "demo_template"
    ctx = open_context(ServerDb(folder, pg_cluster.create_database(name)).settings(clock=Clock()))
    demo_data(ctx, residents=DEMO_RESIDENTS, communities=DEMO_COMMUNITIES)
    ctx.close()
    return folder, name


@pytest.fixture
def server_db(backend, tmp_path, request, monkeypatch) -> ServerDb:
    """This test's server data folder and database, on ``backend``, with the demo data.
    On PostgreSQL, ``JIFEN_DATABASE`` names it for every server process the test starts."""
    data = tmp_path / "server"
    if backend == "sqlite":
        shutil.copytree(request.getfixturevalue("server_template"), data)
        return ServerDb(data)
    folder, template = request.getfixturevalue("pg_template")
    shutil.copytree(folder, data)
    dsn = request.getfixturevalue("pg_cluster").create_database(f"copy{next(_copies)}", template=template)
    monkeypatch.setenv("JIFEN_DATABASE", dsn)
    return ServerDb(data, dsn)


@pytest.fixture
def server_dir(server_db) -> Path:
    """The root conftest's ``server_dir``, on this test's backend."""
    return server_db.data


@pytest.fixture
def app_server(server_db, clock):
    """The root conftest's in-process server, on this test's backend."""
    from tests.conftest import InProcessServer

    server = InProcessServer(server_db.settings(clock=clock)).start()
    yield server
    server.stop()
