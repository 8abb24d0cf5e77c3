"""A real `jifen-server serve` over a copy of the demo data, staff accounts of every role,
and Debian's Chromium driven by Playwright (the set-up both browser suites share,
``tests.console_browser``): the console pages are tested as a staff member uses them."""

from pathlib import Path

from tests.console_browser import (ACCOUNTS, PASSWORD, browser_context_args, browser_type_launch_args, console, context,
                                   pytest_runtest_makereport)
from tests.e2e.conftest import cli

SHOTS = Path(__file__).parent / "screenshots"


def sign_in(page, console, username: str, to: str) -> None:
    """Sign in through the form and land on ``to``."""
    page.goto(f"{console.url}/signin?next={to}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{console.url}{to}*")


def shot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["ACCOUNTS", "PASSWORD", "browser_context_args", "browser_type_launch_args", "cli", "console", "context",
           "pytest_runtest_makereport", "sign_in", "shot"]
