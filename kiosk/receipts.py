"""Receipts: what the resident takes home after each transaction, on screen and on paper.

A receipt names the event id (单号, what staff find in the resident's history), the items,
and the points before and after. Its QR code carries the kiosk's signature over the event
(``sync.receipt``) on the address of the public check page, and the saved file ends with the
same text, so anyone with the published keys can check it (``jifen-verify``). The text file is written to
``<data>/receipts/<event id>.txt`` whether or not a printer is set (``kiosk.printer``
prints the same lines). Imports no Textual.
"""

import base64
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import segno

from kiosk.i18n import t
from kiosk.recording import Recorded
from sync import kinds
from sync.board import mask_name  # a receipt left on the counter masks as the public board does
from sync.calendar import local_dt
from kiosk.files import private_folder, write_private_text

def width(text: str) -> int:
    """Terminal/printer cells: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, cells: int) -> str:
    return text + " " * max(0, cells - width(text))


@dataclass(frozen=True)
class Line:
    label: str  # rule or goods name
    qty: int
    points: int  # signed effect on the resident (or the qty for deliveries)


@dataclass(frozen=True)
class Receipt:
    kind: str  # the event's tag: the title is translation key receipt_title_<kind>
    event_id: str
    at: int
    kiosk: str
    shop_name: str
    operator: str
    resident: str | None = None  # card
    resident_name: str | None = None
    lines: list[Line] = field(default_factory=list)
    before: int | None = None
    after: int | None = None
    target: str | None = None  # a void's reversed event
    note: str = ""
    quantities_only: bool = False  # lines without points (a delivery note)
    pending: bool = False  # recorded while the server was unreachable: marked 待同步
    tracking: str | None = None  # a letter's or request's slip: the code the resident returns with
    stars: int | None = None  # a rating's stars
    topic: tuple[str, str] | None = None  # a letter's or request's (channel, category)

    #: the check page's address carrying the signed payload (``sync.receipt``): what the QR
    #: code holds and the saved file's last line, for printers without QR and for typing in
    link: str | None = None

    @property
    def qr_payload(self) -> str:
        """What the QR code holds: the signed link (a receipt recorded without a key to sign
        with, which no counter flow does, holds just its event id)."""
        return self.link or self.event_id


def render(r: Receipt, lang: str) -> list[str]:
    """The receipt's text lines (without the QR code)."""
    out = [t("receipt_title_" + r.kind, lang), r.shop_name,
           t("receipt_event", lang, id=r.event_id),
           t("receipt_when", lang, at=local_dt(r.at).strftime("%Y-%m-%d %H:%M"), kiosk=r.kiosk, operator=r.operator)]
    if r.resident:
        out.append(t("receipt_resident", lang, card=r.resident, name=mask_name(r.resident_name or "")))
    if r.target:
        out.append(t("receipt_target", lang, target=r.target))
    for line in r.lines:
        # in the operator's words: a deduction reads 扣 5 分, never -5
        points = t("receipt_deduct" if line.points < 0 else "receipt_add", lang, n=abs(line.points))
        amount = f"×{line.qty}" if r.quantities_only else f"×{line.qty}  {points}"
        out.append(f"  {pad(line.label, 20)} {amount}")
    if r.note:
        out.append(t("receipt_note", lang, note=r.note))
    if r.topic is not None:
        out.append(t("receipt_topic", lang, channel=t("voice_channel_" + r.topic[0], lang),
                     category=t("voice_cat_" + r.topic[1], lang)))
    if r.stars is not None:
        out.append(t("receipt_stars", lang, stars="★" * r.stars + "☆" * (5 - r.stars), n=r.stars))
    if r.tracking:
        out += [t("receipt_tracking", lang, code=r.tracking), t("receipt_tracking_hint", lang)]
    if r.before is not None and r.after is not None:
        out.append(t("receipt_points", lang, before=r.before, after=r.after))
    if r.pending:
        out.append(t("receipt_pending", lang))
    return out


def qr_lines(payload: str) -> list[str]:
    """The QR code as half-block text: two module rows per line, dark = block."""
    qr = segno.make(payload, error="m")
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    chars = {(1, 1): "█", (1, 0): "▀", (0, 1): "▄", (0, 0): " "}
    return ["".join(chars[(bool(a), bool(b))] for a, b in zip(top, bottom))
            for top, bottom in zip(rows[::2], rows[1::2])]


def save(r: Receipt, lang: str, data_dir: Path) -> Path:
    """Write the receipt for the printer; returns the file. Rewriting the same event's
    receipt is harmless (same content), so a reprint just writes again."""
    folder = private_folder(data_dir / "receipts")
    path = folder / f"{r.event_id}.txt"
    tail = [t("receipt_check", lang), r.link] if r.link else []
    return write_private_text(path, "\n".join(render(r, lang) + [""] + qr_lines(r.qr_payload) + tail) + "\n")


def build(rec: Recorded, pending: bool = False) -> Receipt:
    """The receipt of one recorded event, as its kind reads it (``sync.kinds``), from what
    the recording transaction returned (``kiosk.recording.Recorded``); ``pending``: the
    kiosk was offline, so the receipt says 待同步."""
    ev = rec.event
    part = kinds.lookup(rec.kind).receipt(ev)
    card = rec.resident if part.resident else None
    return Receipt(kind=rec.kind, event_id=ev.id, at=ev.at, kiosk=rec.kiosk, shop_name=rec.shop_name,
                   operator=ev.operator, before=rec.before, after=rec.after, resident=card,
                   resident_name=rec.resident_name if card else None,
                   lines=[Line(_line_name(rec, line.name), line.qty, line.points) for line in part.lines],
                   target=part.target, note=part.note, quantities_only=part.quantities_only,
                   pending=pending, link=rec.link, tracking=part.tracking, stars=part.stars, topic=part.topic)


def _line_name(rec: Recorded, name: tuple[str, str]) -> str:
    """A receipt line's label: the code and the name this kiosk mirrors for it."""
    what, code = name
    match what:
        case "rule":
            return f"{code} {rec.names.get(name, code)}"
        case "good":
            return f"{code} {rec.names[name]}" if name in rec.names else code
        case _:
            raise ValueError(f"a receipt line names a {what!r}")
