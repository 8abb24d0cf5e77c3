"""A server's data folder, database, backups and first admin password are its user's only
(issue 11, Medium 6): made by the real entry point, then looked at as another user would."""

import os
import stat
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def jifen_server(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "JIFEN_ADMIN_PASSWORD"}
    return subprocess.run([str(BIN / "jifen-server"), *args, "--data", str(data)], capture_output=True, text=True,
                          env=env, timeout=300)


def test_data_folder_database_and_backup_are_private(tmp_path):
    data = tmp_path / "srv"
    os.umask(0o022)  # the permissive default an operator's shell hands down
    assert jifen_server(data, "demo-data", "--residents", "20").returncode == 0
    assert mode(data) == 0o700
    databases = list(data.glob("*.db*"))
    assert databases and all(mode(p) == 0o600 for p in databases), {p.name: oct(mode(p)) for p in databases}
    assert jifen_server(data, "backup", str(data / "copy.db")).returncode == 0
    assert mode(data / "copy.db") == 0o600
    others = [p for p in data.rglob("*") if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert others == []


def test_an_existing_folder_is_made_private_on_open(tmp_path):
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    assert jifen_server(data, "list", "shops").returncode == 0
    assert mode(data) == 0o700
