"""`jifen-server serve` refuses plain HTTP on an address other machines reach unless told
``--insecure-http``: pull pages carry residents' data and sign-ins carry passwords. It used
to serve 0.0.0.0 in clear without a word. Real processes."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.cli import is_loopback

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "server.example"])
def test_plain_http_on_a_reachable_address_is_refused(tmp_path, host):
    out = subprocess.run([str(BIN / "jifen-server"), "serve", "--data", str(tmp_path / "d"), "--host", host, "--port", str(free_port())],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "refusing plain HTTP" in out.stderr and "--insecure-http" in out.stderr


def test_loopback_names():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "jifen.local"))


def test_insecure_http_serves_when_asked(tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(BIN / "jifen-server"), "serve", "--data", str(tmp_path / "d"), "--host", "0.0.0.0", "--port", str(port),
                             "--insecure-http"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not come up")
    finally:
        proc.terminate()
        proc.wait(10)
