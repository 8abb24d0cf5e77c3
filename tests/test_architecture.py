"""The shape of the code base, checked: layer contracts, our own `schema`, documented CLIs."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_schema_is_ours():
    import schema

    assert getattr(schema, "JIFEN_SCHEMA", False), f"`import schema` found {schema.__file__}, not jifen's"
    assert Path(schema.__file__).resolve().parent == ROOT / "schema"


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
