"""What people and scanners type, made into the one form a code is stored in.

Card numbers, goods codes (SKUs), rule codes, operator ids, enrolment codes and kiosk ids
(``K0001``, as staff type them into ``jifen-server``) reach the system from a barcode
scanner (which may add CR LF or a Tab), from a Chinese input method left in full-width mode
(``５１０１``, ``ＯＩＬ``), from a paste with an ideographic space (U+3000) around it, and in
whatever letter case the person used. ``normalise`` is the one function every entry point
calls (the kiosk app and CLI, the server's staff API, CLI and CSV import), so the same code
typed any of those ways finds the same row.

The steps: Unicode NFKC (full-width forms and the ideographic space become ASCII), strip
surrounding whitespace (tabs, CR, LF, U+3000 included), then the kind's letter case
(operator ids are lower case, every other code upper case). What is still not a valid
code raises ``InvalidCode``, whose ``shape`` says what a valid one looks like. Shop and
community ids keep the letter case staff gave them when they made them: they are ``clean``ed.

Pure: strings in, strings out; the app and the server translate ``InvalidCode`` into
their own words.
"""

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class CodeKind:
    name: str
    pattern: re.Pattern
    upper: bool
    shape: str  # what a valid one looks like, in English (the kiosk has its own words)
    example: str


KINDS = {k.name: k for k in (
    CodeKind("card", re.compile(r"[0-9A-Z]{4,32}"), True, "4 to 32 digits or letters", "5101810000001"),
    CodeKind("sku", re.compile(r"[0-9A-Z][0-9A-Z_.-]{0,31}"), True,
             "1 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit", "OIL"),
    CodeKind("rule", re.compile(r"[0-9A-Z][0-9A-Z_.-]{0,31}"), True,
             "1 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit", "V01"),
    CodeKind("operator", re.compile(r"[0-9a-z][0-9a-z_.-]{0,31}"), False,
             "1 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit", "op1"),
    CodeKind("enrol", re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"), True,
             "12 letters and digits in three groups of four, as printed", "ABCD-EFGH-JKLM"),
    CodeKind("kiosk", re.compile(r"K[0-9]{4,12}"), True, "K and 4 to 12 digits", "K0001"),  # schema.types.KioskId
)}


class InvalidCode(ValueError):
    """``value`` (as typed, shortened) is not a valid ``kind`` even after normalising."""

    def __init__(self, kind: str, value: str):
        self.kind = kind
        self.value = value[:40]
        spec = KINDS[kind]
        super().__init__(f"not a valid {kind}: {self.value!r} (expected {spec.shape}, e.g. {spec.example})")

    @property
    def shape(self) -> str:
        return KINDS[self.kind].shape

    @property
    def example(self) -> str:
        return KINDS[self.kind].example


def clean(text: str) -> str:
    """Full-width forms to ASCII and surrounding whitespace (U+3000, tabs, CR/LF) removed."""
    return unicodedata.normalize("NFKC", text).strip()


def normalise(kind: str, text: str) -> str:
    """The stored form of a ``kind`` code typed as ``text``; ``InvalidCode`` if there is none."""
    spec = KINDS[kind]
    value = clean(text)
    value = value.upper() if spec.upper else value.lower()
    if kind == "enrol" and re.fullmatch(r"[0-9A-Z]{12}", value):
        value = f"{value[:4]}-{value[4:8]}-{value[8:]}"  # typed without the dashes
    if not spec.pattern.fullmatch(value):
        raise InvalidCode(kind, text.strip() or text)
    return value


def normalise_or_none(kind: str, text: str) -> str | None:
    """``normalise``, or None for text that can be no such code (a name typed in a search box)."""
    try:
        return normalise(kind, text)
    except InvalidCode:
        return None


def normalise_or_keep(kind: str, text: str | None) -> str:
    """``normalise``, or the text as given when it is no such code: for a use case whose own
    check then refuses it in its words, or whose lookup then finds nothing and says so."""
    return normalise_or_none(kind, text or "") or (text or "")
