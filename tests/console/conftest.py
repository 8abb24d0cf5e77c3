"""The staff console in a real browser: Playwright driving Debian's Chromium
(``/usr/bin/chromium``, with Chinese fonts; ``make setup`` installs both when missing)
against a real ``jifen-server serve`` over this test's copy of the demo data.

Fixtures: ``console`` (the server, with one account per role, all with ``PASSWORD``: the
set-up both browser suites share, ``tests.console_browser``), ``sign_in(page, username)``,
and ``overdraft(card, shop)`` which makes a review item the way a kiosk does (a signed
batch over HTTP). A failing test leaves a screenshot of every open page in ``tmp_path``."""

from pathlib import Path

import httpx
import pytest

from tests.conftest import Clock
from tests.console_browser import (ACCOUNTS, PASSWORD, browser_context_args, browser_type_launch_args, console, context,
                                   pytest_runtest_makereport)
from tests.server.kiosk_double import KioskDouble

__all__ = ["ACCOUNTS", "PASSWORD", "browser_context_args", "browser_type_launch_args", "console", "context",
           "pytest_runtest_makereport"]


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


def keep_screenshot(page, name: str) -> Path:
    """A screenshot kept under tests/console/screenshots (git-ignored) for a person to look at."""
    out = Path(__file__).parent / "screenshots"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


