"""Dependencies: requirements.lock pins every dependency pyproject.toml names, within its
range and with hashes, and pip-audit finds no known vulnerability in what it pins.

pip-audit asks the OSV database over the internet. Where that cannot be reached (a CI
machine with a package mirror but no internet) the audit is skipped, saying why, only on
that network error: any other failure, and any vulnerability found, fails."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PINNED = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.M)
NETWORK = re.compile(r"NameResolutionError|Failed to resolve|Max retries exceeded|ConnectionError|Temporary failure in name resolution|Network is unreachable")


def pins() -> dict[str, str]:
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in PINNED.findall(LOCK.read_text(encoding="utf-8"))}


def test_the_lock_pins_every_dependency_in_range_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    locked = pins()
    for req in wanted:
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in locked, f"{req.name} is not in requirements.lock: run pip-compile (README, Dependencies)"
        assert req.specifier.contains(locked[name], prereleases=True), f"{req.name}=={locked[name]} is outside {req.specifier}"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text(encoding="utf-8").split("\n\n", 1)[-1])
    assert all("--hash=sha256:" in b for b in blocks if PINNED.match(b)), "every pin carries its hashes"


def test_pip_audit_finds_no_known_vulnerability():
    out = subprocess.run([sys.executable, "-m", "pip_audit", "--vulnerability-service", "osv", "--disable-pip", "--no-deps",
                          "--progress-spinner", "off", "-r", str(LOCK)], capture_output=True, text=True, timeout=600)
    if out.returncode != 0 and NETWORK.search(out.stderr):
        pytest.skip("pip-audit cannot reach the OSV vulnerability database (no internet here): " + NETWORK.search(out.stderr).group(0))
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
