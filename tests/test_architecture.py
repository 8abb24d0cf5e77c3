"""The shape of the code base, checked: layer contracts, our own `schema`, documented CLIs."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_schema_is_ours():
    import schema

    assert getattr(schema, "JIFEN_SCHEMA", False), f"`import schema` found {schema.__file__}, not jifen's"
    assert Path(schema.__file__).resolve().parent == ROOT / "schema"


def test_import_schema_is_ours_outside_the_checkout(tmp_path):
    """What the console scripts see: the install's own path, not pytest's, with no other
    distribution (PyPI has one called ``schema``) offering a top-level ``schema``."""
    code = ("import importlib.metadata as m, schema; print(schema.__file__); "
            "print(sorted(d.metadata['Name'] for d in m.distributions() "
            "if 'schema' in (d.read_text('top_level.txt') or '').split()))")
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    found, owners = out.splitlines()
    assert Path(found).resolve() == ROOT / "schema" / "__init__.py"
    assert owners in ("[]", "['jifen']"), f"another distribution installs a top-level `schema`: {owners}"


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_sql_above_the_stores():
    """import-linter keeps the drivers in the stores; this keeps the statements there too:
    no module outside ``server/store`` and ``kiosk/store.py`` runs SQL through a handle it
    was given (a ``Tx``'s ``sql``, or a connection's ``execute``)."""
    import re

    stores = {ROOT / "kiosk" / "store.py"}
    found = []
    for path in [*(ROOT / "server").rglob("*.py"), *(ROOT / "kiosk").rglob("*.py")]:
        if path in stores or (ROOT / "server" / "store") in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(r"\.sql\.\w+|\.execute(many|script)?\(", text)]
    assert not found, found


def _subcommands(script: str) -> list[str]:
    import re

    out = subprocess.run([str(Path(sys.executable).with_name(script)), "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^    ([a-z][a-z-]+)\s", out, re.M)


def test_every_cli_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for script in ("jifen-server", "jifen-kiosk"):
        commands = _subcommands(script)
        assert commands, f"could not read {script}'s subcommands"
        missing += [f"{script} {c}" for c in commands if f"| `{c}" not in readme]
    assert not missing, f"undocumented in README.md: {missing}"
