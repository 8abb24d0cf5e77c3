"""A letter's or request's tracking code (书记信箱, 村民说事): ``0007-0042-8``, derived from the
kiosk id and the event's sequence number, with a check digit, so a slip needs no
randomness and no server round trip, and a mistyped code is caught before it is looked up.

The code is three groups of digits: the kiosk id's digits (``K0007`` → ``0007``), the
event's ``kseq`` (at least four digits, zero-padded) and one Damm check digit over all the
digits before it. Digits only, because residents type it on a keypad or read it aloud; the
Damm check detects every single wrong digit and every swap of two neighbouring digits.
The code names its event (``K0007-42``), so it is unique as event ids are.

It is not a secret: anyone holding it may read the public handling log, which shows only
masked names. Rating by code alone (the public page) is therefore weaker than rating at a
kiosk, where the resident's card must match the item's (docs/SECURITY.md).

Pure: strings in, strings out.
"""

import re

from sync.codes import clean

#: Damm's totally anti-symmetric quasigroup of order 10
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

#: the stored form of a tracking code (``schema.wire.TrackingCode`` has the same pattern)
PATTERN = re.compile(r"([0-9]{4,12})-([0-9]{4,16})-([0-9])")
SHAPE = "digits in three groups, as printed on the slip, e.g. 0007-0042-8"


class InvalidTracking(ValueError):
    """``value`` (as typed, shortened) is no tracking code: ``why`` is ``shape`` (not three
    groups of digits) or ``check`` (the check digit does not match: a mistyped digit)."""

    def __init__(self, value: str, why: str):
        self.value = value[:40]
        self.why = why
        what = f"not shaped as a tracking code ({SHAPE})" if why == "shape" else "its check digit does not match (a digit is mistyped)"
        super().__init__(f"tracking code {self.value!r}: {what}")


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of decimal digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return str(interim)


def tracking_code(kiosk: str, kseq: int) -> str:
    """The code of the event ``kseq`` of kiosk ``kiosk`` (``K`` and 4 to 12 digits)."""
    if not re.fullmatch(r"K[0-9]{4,12}", kiosk) or kseq < 1:
        raise ValueError(f"no tracking code for kiosk {kiosk!r}, event {kseq}")
    body = f"{kiosk[1:]}-{kseq:04d}"
    return f"{body}-{check_digit(body.replace('-', ''))}"


def parse(text: str) -> tuple[str, int]:
    """The (kiosk id, kseq) a typed code names, after the forms people type are made one
    (full-width digits, spaces or dashes of any width between the groups); raises
    ``InvalidTracking``."""
    code = normalise(text)
    kiosk_digits, kseq, _ = code.split("-")
    return "K" + kiosk_digits, int(kseq)


def normalise(text: str) -> str:
    """The stored form of a typed tracking code; ``InvalidTracking`` if it is none."""
    value = re.sub(r"[\s\-‐‑‒–—―−]+", "-", clean(str(text)))
    m = PATTERN.fullmatch(value)
    if not m:
        raise InvalidTracking(str(text).strip(), "shape")
    if f"{int(m.group(2)):04d}" != m.group(2):  # padded otherwise than as printed (00042 for 0042)
        raise InvalidTracking(str(text).strip(), "shape")
    if int(m.group(2)) < 1 or check_digit(m.group(1) + m.group(2)) != m.group(3):
        raise InvalidTracking(str(text).strip(), "check")
    return value


def of_event(event_id: str) -> str:
    """The tracking code of a kiosk event id (``K0007-42`` → ``0007-0042-8``)."""
    kiosk, _, kseq = event_id.partition("-")
    return tracking_code(kiosk, int(kseq))
