"""The kiosk's error tree (kiosk/errors.py) is true to the code: every exception the kiosk
raises is defined there and drawn in the tree, none is dead, and each one's words exist
in both languages."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import kiosk
from kiosk import errors
from kiosk.i18n import LANGS, TABLE

KIOSK = Path(kiosk.__file__).parent
SOURCES = {p: p.read_text(encoding="utf-8") for p in KIOSK.rglob("*.py")}


def _modules():
    for info in pkgutil.walk_packages(kiosk.__path__, "kiosk."):
        yield importlib.import_module(info.name)


def _tree_classes() -> list[type]:
    return [v for v in vars(errors).values()
            if inspect.isclass(v) and issubclass(v, Exception) and v.__module__ == errors.__name__]


def test_every_kiosk_exception_lives_in_kiosk_errors():
    elsewhere = [f"{mod.__name__}.{name}" for mod in _modules() for name, v in vars(mod).items()
                 if inspect.isclass(v) and issubclass(v, Exception) and v.__module__ == mod.__name__
                 and mod is not errors and not name.startswith("_")]  # private control flow stays in its module
    assert not elsewhere, f"define these in kiosk/errors.py and draw them in its tree: {elsewhere}"


def test_every_error_class_is_drawn_in_the_tree():
    tree = errors.__doc__
    missing = [c.__name__ for c in _tree_classes() if not re.search(rf"\b{c.__name__}\b", tree)]
    assert not missing, missing


def test_no_error_class_is_dead():
    """Each class is made somewhere (``Name(`` other than its own ``class Name(`` line)."""
    text = "\n".join(SOURCES.values())
    dead = [c.__name__ for c in _tree_classes() if c is not errors.KioskError
            and len(re.findall(rf"\b{c.__name__}\(", text)) <= len(re.findall(rf"class {c.__name__}\(", text))]
    assert not dead, f"never raised anywhere in kiosk/: {dead}"


def test_no_ad_hoc_errors_for_kiosk_conditions():
    """A condition gets its class in the tree, not a bare ``KioskError("key")`` or a
    ``RuntimeError``."""
    found = [f"{p.relative_to(KIOSK)}: {m.group(0)}" for p, text in SOURCES.items() if p.name != "errors.py"
             for m in re.finditer(r"raise (E\.|errors\.)?KioskError\(|raise RuntimeError\(", text)]
    assert not found, found


def test_each_error_key_has_words_in_every_language():
    keys = {c.key for c in _tree_classes()}
    missing = [(k, lang) for k in sorted(keys) for lang in LANGS if lang not in TABLE.get(k, {})]
    assert not missing, missing
