"""Both console scripts piped into a reader that has stopped (``jifen-server list … | head``)
exit quietly: no traceback, no "Exception ignored" at shutdown. Real processes, real pipes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run_into_closed_pipe(*argv: str) -> subprocess.CompletedProcess:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte: every write meets EPIPE
    try:
        return subprocess.run([str(BIN / argv[0]), *argv[1:]], stdout=write, stderr=subprocess.PIPE,
                              timeout=120, check=False)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [
    ("list", "residents"),
    ("list", "shops"),
    ("balance", "5106810100001"),
    ("rule", "changes", "ZYFW", "--json"),
    ("--help",),
])
def test_server_cli_into_a_closed_reader(server_dir, args):
    data = () if args == ("--help",) else ("--data", str(server_dir))
    done = run_into_closed_pipe("jifen-server", *args, *data)
    assert done.stderr == b""
    assert done.returncode in (0, 1)


@pytest.mark.parametrize("args", [("--help",), ("find", "--help"), ("status", "--json")])
def test_kiosk_cli_into_a_closed_reader(tmp_path, args):
    done = run_into_closed_pipe("jifen-kiosk", *args, *(("--data", str(tmp_path)) if args[0] == "status" else ()))
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr
    assert done.returncode in (0, 1)
