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


#: the kiosk's service layer: the facade and the concerns it composes, over the store
KIOSK_SERVICE_LAYER = {"service.py", "recording.py", "enrolment.py", "syncing.py", "counter.py", "online.py", "store.py"}


def test_kiosk_views_and_helpers_reach_no_store():
    """Screens, widgets, the app, receipts, shift reports and the CLI ask ``KioskService``;
    only the service layer holds the store (import-linter forbids importing it; this also
    catches ``service.store.…`` reached through an attribute)."""
    import ast

    found = []
    for path in (ROOT / "kiosk").rglob("*.py"):
        if path.parent == ROOT / "kiosk" and path.name in KIOSK_SERVICE_LAYER:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr == "store"
                    or isinstance(node, ast.ImportFrom) and node.module == "kiosk.store"
                    or isinstance(node, ast.Import) and any(a.name == "kiosk.store" for a in node.names)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
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


# docs/ARCHITECTURE.md, checked against the tree

_ARCH = ROOT / "docs" / "ARCHITECTURE.md"
_PACKAGES = ("schema", "sync", "server", "kiosk")


def _modules_on_disk() -> set[str]:
    """Every module under the four packages, named as the table names it: ``pkg/`` for a
    package (its ``__init__.py``), ``pkg/mod.py`` for a module."""
    found = set()
    for top in _PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT)
            found.add(f"{rel.parent.as_posix()}/" if path.name == "__init__.py" else rel.as_posix())
    return found


def _module_table() -> dict[str, str]:
    """The rows of the "## Modules" table: module → its one job."""
    import re

    text = _ARCH.read_text(encoding="utf-8")
    section = text.split("\n## Modules\n", 1)
    assert len(section) == 2, "docs/ARCHITECTURE.md has no '## Modules' section"
    body = section[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        m = re.fullmatch(r"\|\s*`([^`]+)`\s*\|(.*)\|\s*", line)
        if m:
            assert m.group(1) not in rows, f"{m.group(1)} is listed twice in the module table"
            rows[m.group(1)] = m.group(2).strip()
    assert rows, "the '## Modules' table in docs/ARCHITECTURE.md has no rows"
    return rows


def test_every_listed_module_exists():
    gone = sorted(set(_module_table()) - _modules_on_disk())
    assert not gone, f"docs/ARCHITECTURE.md lists modules that no longer exist: {gone}"


def test_every_module_is_listed_with_its_job():
    table = _module_table()
    unlisted = sorted(_modules_on_disk() - set(table))
    assert not unlisted, f"modules missing from the table in docs/ARCHITECTURE.md § Modules: {unlisted}"
    jobless = sorted(name for name, job in table.items() if not job)
    assert not jobless, f"modules listed without their job: {jobless}"


def test_every_module_opens_with_a_docstring():
    import ast

    bare = sorted(name for name in _modules_on_disk()
                  if not ast.get_docstring(ast.parse((ROOT / (name + "__init__.py" if name.endswith("/") else name)).read_text(encoding="utf-8"))))
    assert not bare, f"modules with no docstring (their one job and why): {bare}"


def _resolves(ref: str) -> bool:
    """Whether a reference in the prose names something real: a path (``sync/codec.py``,
    ``server/store/``, ``tests/…/contract.py``), a module (``server.store.tx``) or a name in
    one (``schema/feeds.FEEDS``, ``sync.kinds.KINDS``)."""
    import importlib

    if (ROOT / ref).exists():
        return True
    if ref.startswith("tests/"):
        return False
    parts = ref.removesuffix("/").removesuffix(".py").replace("/", ".").split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        if not (ROOT / name.replace(".", "/")).exists() and not (ROOT / (name.replace(".", "/") + ".py")).exists():
            continue
        obj = importlib.import_module(name)
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_module_and_name_the_prose_mentions_exists():
    """The prose names modules, packages, files and names (``sync/signing.py``,
    ``schema/feeds.FEEDS``, ``server.store.chain.insert_batch``): each must still be there."""
    import re

    text = _ARCH.read_text(encoding="utf-8")
    refs = set(re.findall(r"`((?:schema|sync|server|kiosk|tests)[/.][\w./]*)`", text))
    assert refs, "found no module references in docs/ARCHITECTURE.md"
    broken = sorted(ref for ref in refs if not _resolves(ref))
    assert not broken, f"docs/ARCHITECTURE.md mentions what does not exist: {broken}"


def _normal_route(path: str) -> str:
    """``/api/staff/{username:str}/disable`` and ``/api/staff/{user}/disable`` alike."""
    import re

    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")


def test_the_route_tables_list_every_route_of_the_app(tmp_path):
    """Every ``METHOD /path`` the doc names is a route of ``create_app``, and every route
    of the app (but the OpenAPI pages) is named in the doc."""
    import re

    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings(data_dir=tmp_path))
    served = {(method, _normal_route(route.path))
              for route in app.routes if not route.path.startswith("/schema")
              for method in getattr(route, "methods", ()) if method not in ("HEAD", "OPTIONS")}
    assert served, "found no routes in the app"
    text = _ARCH.read_text(encoding="utf-8")
    named = {(m, _normal_route(p)) for m, p in re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`\s?]*)", text)}
    assert not sorted(named - served), f"docs/ARCHITECTURE.md names routes the app does not serve: {sorted(named - served)}"
    assert not sorted(served - named), f"routes missing from the tables in docs/ARCHITECTURE.md: {sorted(served - named)}"


def test_the_pull_feed_paragraph_names_every_feed_kind():
    """The "Kinds: `resident`, `rule`, …" sentence lists exactly the kinds of ``FEEDS``."""
    import re

    from schema.feeds import FEEDS

    text = _ARCH.read_text(encoding="utf-8")
    kinds_sentence = text.split("\nKinds: ", 1)[1].split("Every kind is one", 1)[0]
    named = {m for m in re.findall(r"(?:^|, )`(\w+)`", kinds_sentence)}
    assert named == set(FEEDS), (f"docs/ARCHITECTURE.md's pull-feed kinds differ from schema/feeds.FEEDS: "
                                 f"only in the doc {sorted(named - set(FEEDS))}, only in FEEDS {sorted(set(FEEDS) - named)}")


#: The only modules that read the process environment: each console script's entry point,
#: which loads it into the one settings object the rest is handed.
ENTRY_POINTS = {Path("server/cli.py"), Path("kiosk/cli.py")}


def test_only_the_entry_points_read_the_environment():
    import re

    reads = re.compile(r"\bos\.(environ|environb|getenv|getenvb)\b|\bfrom os import\b[^\n]*\b(environ|getenv)\b")
    found = []
    for package in ("schema", "sync", "server", "kiosk"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel in ENTRY_POINTS:
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}" for m in reads.finditer(text)]
    assert not found, f"read the environment below the entry points (load it into Settings there): {found}"


def test_no_class_defines_a_method_twice():
    """A second ``def`` of a name in one class body silently replaces the first (a merge left
    two ``KioskStore.unacked_batches`` of different types: the balance's state read the wrong
    one). Property setters and deleters reuse their property's name and are allowed."""
    import ast

    found = []
    for package in ("schema", "sync", "server", "kiosk", "bench"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
                seen: dict[str, int] = {}
                for node in cls.body:
                    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        continue
                    decorators = {ast.unparse(d) for d in node.decorator_list}
                    if any(d.endswith((".setter", ".deleter")) or d in {"overload", "typing.overload"} for d in decorators):
                        continue
                    if node.name in seen:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {cls.name}.{node.name} (first at line {seen[node.name]})")
                    seen[node.name] = node.lineno
    assert not found, f"methods defined twice in one class: {found}"
