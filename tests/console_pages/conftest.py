"""A real `jifen-server serve` over a copy of the demo data, staff accounts of every role
made through the CLI, and Debian's Chromium driven by Playwright: the console pages are
tested as a staff member uses them."""

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import ServerProcess, cli, free_port

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse 42"
#: username -> (role, communities)
ACCOUNTS = {
    "boss": ("admin", ()),
    "recon": ("reconciler", ()),
    "mgr": ("community_manager", ("SQ01",)),
    "aud": ("auditor", ()),
}
SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.skip("Debian Chromium is not installed (make setup installs it)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox", "--lang=zh-CN"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A browser set up as central staff's are: Chinese, a laptop's screen."""
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def console(server_dir):
    """The server with the staff ``ACCOUNTS`` (password ``PASSWORD``), running."""
    env = os.environ | {"JIFEN_STAFF_PASSWORD": PASSWORD}
    for name, (role, comms) in ACCOUNTS.items():
        args = ["staff", "add", name, "--role", role, *[a for c in comms for a in ("--community", c)], "--data", str(server_dir)]
        cli_env("jifen-server", args, env)
    srv = ServerProcess(server_dir, free_port()).start()
    yield srv
    srv.stop()


def cli_env(name: str, args: list[str], env: dict) -> None:
    import subprocess

    from tests.e2e.conftest import BIN

    proc = subprocess.run([str(BIN / name), *args], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


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


__all__ = ["cli", "sign_in", "shot", "PASSWORD"]
