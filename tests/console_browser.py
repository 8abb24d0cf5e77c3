"""What both browser suites (``tests/console`` and ``tests/console_pages``) share: Debian's
Chromium (``/usr/bin/chromium``, with Chinese fonts; ``make setup`` installs both when
missing) driven by Playwright in a Chinese browser on a laptop's screen, and ``console``:
a real ``jifen-server serve`` over this test's copy of the demo data with one account per
role (``ACCOUNTS``, all with ``PASSWORD``), on a free loopback port, its periodic chores
off; on a failure, a screenshot of each open page in ``tmp_path``. Each suite's conftest
imports these, so both run against the same server set-up."""

import os
from pathlib import Path

import pytest

from server.services import open_context
from server.services.staff import SYSTEM, add_staff
from server.settings import Settings
from tests.e2e.conftest import ServerProcess, free_port

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse 1"
#: username -> (role, communities): every suite's accounts
ACCOUNTS = {
    "admin": ("admin", ()),
    "boss": ("admin", ()),
    "rex": ("reconciler", ()),
    "rita": ("reconciler", ()),
    "recon": ("reconciler", ()),
    "aud": ("auditor", ()),
    "cm1": ("community_manager", ("SQ01",)),
    "mgr": ("community_manager", ("SQ01",)),
    "cm2": ("community_manager", ("SQ02",)),
}

if not CHROMIUM.exists():  # a hard failure, not a skip: CI must have it (make setup)
    raise RuntimeError(f"{CHROMIUM} is missing: run `make setup` (as root it installs chromium and fonts-wqy-microhei)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox", "--lang=zh-CN"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A browser set up as central staff's are: Chinese, a laptop's screen."""
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def console(server_dir):
    """The server with the staff ``ACCOUNTS`` (password ``PASSWORD``), running."""
    ctx = open_context(Settings(data_dir=server_dir))
    try:
        for name, (role, comms) in ACCOUNTS.items():
            add_staff(ctx, SYSTEM, name, role, PASSWORD, list(comms))
    finally:
        ctx.close()
    srv = ServerProcess(server_dir, free_port()).start(env={**os.environ, "JIFEN_TICK_SECONDS": "0"})
    yield srv
    srv.stop()


@pytest.fixture
def context(context, request, tmp_path):
    """pytest-playwright's context; on failure, a screenshot of each open page."""
    yield context
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        for i, p in enumerate(context.pages):
            p.screenshot(path=str(tmp_path / f"failure-{i}.png"), full_page=True)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
