"""The public pages in a real browser: Playwright driving Debian's Chromium
(``/usr/bin/chromium``, with Chinese fonts; ``make setup`` installs both) against a real
``jifen-server serve`` over this test's copy of the demo data. The folder's name starts
with ``console`` so ``tests/conftest.py`` runs it with the other browser tests, last."""

from pathlib import Path

import pytest

from tests.console_browser import browser_type_launch_args  # noqa: F401  (Debian's Chromium, as the console's tests)

SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A resident's browser: Chinese, a phone-to-laptop sized window."""
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1000, "height": 900}}


def kept(name: str) -> Path:
    """Where a screenshot or PDF is kept for a person to look at (git-ignored)."""
    SHOTS.mkdir(exist_ok=True)
    return SHOTS / name
