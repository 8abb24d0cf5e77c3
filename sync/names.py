"""The one check every name people type goes through (residents, staff, goods and units,
shops, communities and streets, operators, rules, kiosk labels), on every entry point: the
staff API's bodies, the CSV import, the CLI and a kiosk's enrolment.

A name is shown on screens, receipts, boards and spreadsheets. A control character breaks
a CSV or a terminal, a bidirectional override makes ``张三‮001`` read as something else,
and a replacement character or a lone surrogate is what text that was not valid UTF-8
turns into. Each is refused with a message naming the problem and where it is, never
silently dropped, so what is stored is what was meant.
"""

import unicodedata

#: The bidirectional embeddings, overrides, isolates and marks (Unicode UAX #9): invisible,
#: and they reorder the text around them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: The zero-width (non-)joiners: invisible, but part of how emoji and some scripts are written.
JOINERS = frozenset("\u200c\u200d")
#: What a lossy UTF-8 decode leaves in place of bytes it could not read.
REPLACEMENT = "\ufffd"


def name_problem(text: object, what: str = "name", max_len: int = 100, *, required: bool = True) -> str | None:
    """Why ``text`` cannot be the ``what`` of something (``None`` when it can): not a
    string, empty (when ``required``), longer than ``max_len`` characters, or holding a
    control character, a line or paragraph separator, a bidirectional control, a
    replacement character or a surrogate."""
    if not isinstance(text, str):
        return f"{what} must be text"
    if required and not text.strip():
        return f"{what} must not be empty"
    if len(text) > max_len:
        return f"{what} must be at most {max_len} characters (it has {len(text)})"
    bad = first_bad_character(text)
    if bad is not None:
        i, ch, kind = bad
        return f"{what} holds {kind} U+{ord(ch):04X} at character {i + 1}"
    return None


def first_bad_character(text: str) -> tuple[int, str, str] | None:
    """The first character a name may not hold: ``(index, character, what it is)``."""
    for i, ch in enumerate(text):
        kind = _bad_kind(ch)
        if kind is not None:
            return i, ch, kind
    return None


def _bad_kind(ch: str) -> str | None:
    if ch in BIDI_CONTROLS:
        return "a bidirectional control"
    if ch == REPLACEMENT:
        return "a replacement character (the text was not valid UTF-8)"
    category = unicodedata.category(ch)
    if category == "Cc":
        return "a control character"
    if category == "Cs":
        return "a lone surrogate (the text was not valid UTF-8)"
    if category in ("Zl", "Zp"):
        return "a line separator"
    if category == "Cf" and ch not in JOINERS:
        return "an invisible formatting character"
    if category == "Co":
        return "a private-use character"
    return None


def decode_utf8(data: bytes, what: str) -> tuple[str | None, str | None]:
    """``(text, None)`` for valid UTF-8 (a leading BOM dropped), else ``(None, problem)``
    naming the byte offset of the first invalid byte."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, f"{what} is not valid UTF-8 (byte {exc.start} is 0x{data[exc.start]:02x})"
