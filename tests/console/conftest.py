"""The staff console in a real browser: Playwright driving Debian's Chromium
(``/usr/bin/chromium``, with Chinese fonts; ``make setup`` installs both when missing)
against a real ``jifen-server serve`` over this test's copy of the demo data.

Fixtures: ``console`` (the server, with one account per role, all with ``PASSWORD``),
``sign_in(page, username)``, and ``overdraft(card, shop)`` which makes a review item the
way a kiosk does (a signed batch over HTTP). A failing test leaves a screenshot of every
open page in ``tmp_path``."""

import os
from pathlib import Path

import httpx
import pytest

from server.services import open_context
from server.services.staff import SYSTEM, add_staff
from server.settings import Settings
from tests.conftest import Clock
from tests.e2e.conftest import ServerProcess, free_port
from tests.server.kiosk_double import KioskDouble

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse 1"
#: username -> (role, communities)
ACCOUNTS = {
    "admin": ("admin", []),
    "rex": ("reconciler", []),
    "rita": ("reconciler", []),
    "aud": ("auditor", []),
    "cm1": ("community_manager", ["SQ01"]),
    "cm2": ("community_manager", ["SQ02"]),
}

if not Path(CHROMIUM).exists():  # a hard failure, not a skip: CI must have it (make setup)
    raise RuntimeError(f"{CHROMIUM} is missing: run `make setup` (as root it installs chromium and fonts-wqy-microhei)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture
def console(server_dir):
    """A real server with an account per role, on a free loopback port."""
    ctx = open_context(Settings(data_dir=server_dir))
    try:
        for name, (role, comms) in ACCOUNTS.items():
            add_staff(ctx, SYSTEM, name, role, PASSWORD, comms)
    finally:
        ctx.close()
    srv = ServerProcess(server_dir, free_port()).start(env={**os.environ, "JIFEN_TICK_SECONDS": "0"})
    yield srv
    srv.stop()


@pytest.fixture
def sign_in(console):
    def go(page, username: str, password: str = PASSWORD):
        page.goto(console.url + "/signin")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button.primary")
        page.wait_for_load_state()
        return page
    return go


@pytest.fixture
def overdraft(console):
    """Push, as an enrolled kiosk would, a redemption far beyond a resident's balance: the
    server raises an ``overdraft`` review item. Returns the kiosk double."""
    made = []

    def make(card: str, shop: str = "S01", seed: int = 7):
        client = httpx.Client(base_url=console.url, timeout=30)
        k = KioskDouble(client, seed, Clock())
        assert k.enroll(console.enroll_code(shop)).status_code == 200
        assert k.push(k.batch(k.redeem(card, ("TOWEL", 40, 50)))).status_code == 200
        made.append(client)
        return k

    yield make
    for c in made:
        c.close()


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


def keep_screenshot(page, name: str) -> Path:
    """A screenshot kept under tests/console/screenshots (git-ignored) for a person to look at."""
    out = Path(__file__).parent / "screenshots"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


