"""A receipt anyone can check: the payload a kiosk prints (QR and text) and the published
keys file it is checked against. Pure: bytes and text in, a checked receipt or a
``ReceiptRefused`` naming what is wrong out (docs/PROTOCOL.md § 12).

**Payload.** The kiosk signs, under domain ``receipt``,

    kiosk + "\\n" + seq + "\\n" + event bytes        (ASCII kiosk id, ``seq`` in decimal)

where the event bytes are the event's canonical bytes (``sync.codec``) as it stored them
and ``seq`` is the kiosk's next batch when it signed. The binary form is

    0x01 (version) ‖ seq (unsigned LEB128) ‖ len(kiosk) ‖ kiosk ‖ signature (64) ‖ deflate(event bytes)

(raw deflate, RFC 1951), written as RFC 4648 base32 without padding: capitals and 2–7, so a
QR reader keeps it intact, it survives a URL unescaped and it can be typed. Reading is
lenient where people type: case, spaces, ``-`` and line breaks are ignored, and 0, 1 and 8
read as O, I and B. The QR and the end of the receipt file carry the check page's address
with the payload as its ``r`` query parameter; the address is a carrier, not signed: the
signature (and so the verdict) is the same whichever address led to it.

**Keys.** A key is valid for the receipts whose ``seq`` lies in its window (``KeyWindow``):
from its ``from_seq`` to the next key's ``from_seq`` inclusive — a receipt signed just
before a rotation carries the seq of the batch the new key signs first — or, for a key
central staff retired (a forced re-key), to the fence they set.
"""

import base64
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from schema.types import KioskId
from schema.wire import KeyWindow, KioskKeys, PublishedKeys
from sync import codec, kinds
from sync.protocol import ReceiptRefused
from sync.signing import BadKey, BadSignature, SigningKey, VerifyKey

VERSION = 1
#: the check page's query parameter that carries the payload
QUERY = "r"
#: an event's canonical bytes are far below this (100 lines of goods are ~4 KiB); inflating
#: stops here, so a crafted payload cannot expand without bound
MAX_EVENT_BYTES = 64 * 1024
#: the longest text read as a payload (a QR holds at most 4,296 characters)
MAX_TEXT = 8192
KEYS_VERSION = 1

#: what people mistype for base32 letters (base32 has no 0, 1, 8 or 9)
_TYPED = str.maketrans({"0": "O", "1": "I", "8": "B"})


@dataclass(frozen=True)
class Receipt:
    """A payload's parts, decoded but not yet verified."""

    kiosk: str
    seq: int
    signature: str  # hex
    event_bytes: bytes

    def message(self) -> bytes:
        return signed_message(self.kiosk, self.seq, self.event_bytes)


@dataclass(frozen=True)
class Checked:
    """A receipt whose signature verified under a published key valid at its seq."""

    receipt: Receipt
    event: Any  # the decoded kiosk event (schema.wire)
    kind: str  # its tag in sync.kinds
    public_key: str
    kiosk_status: str  # "active" | "revoked", as published

    @property
    def event_id(self) -> str:
        return self.event.id


def mask_card(card: str) -> str:
    """A card as a receipt check shows it: all but the last four characters hidden."""
    return "*" * max(0, len(card) - 4) + card[-4:]


def signed_message(kiosk: str, seq: int, event_bytes: bytes) -> bytes:
    """The bytes a receipt's signature covers (domain ``receipt``)."""
    return f"{kiosk}\n{seq}\n".encode("ascii") + event_bytes


# ---------------------------------------------------------------- making a payload


def sign(key: SigningKey, kiosk: str, seq: int, event_bytes: bytes) -> Receipt:
    return Receipt(kiosk, seq, key.sign("receipt", signed_message(kiosk, seq, event_bytes)), event_bytes)


def encode(r: Receipt) -> str:
    """The payload text of ``r``: base32 capitals, no padding."""
    kiosk = r.kiosk.encode("ascii")
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = (bytes([VERSION]) + _uvarint(r.seq) + bytes([len(kiosk)]) + kiosk + bytes.fromhex(r.signature)
           + deflate.compress(r.event_bytes) + deflate.flush())
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def link(check_url: str, payload: str) -> str:
    """What the QR code and the receipt file's last line carry: the check page with the payload."""
    return f"{check_url}{'&' if '?' in check_url else '?'}{QUERY}={payload}"


# ---------------------------------------------------------------- reading one


def payload_of(text: str) -> str:
    """The payload in ``text``: the ``r`` parameter of a check-page address, or the text itself."""
    text = text.strip()
    if "?" in text or text.lower().startswith(("http://", "https://")):
        values = parse_qs(urlsplit(text).query).get(QUERY)
        if not values:
            raise ReceiptRefused("receipt_encoding", f"the address has no {QUERY}= parameter holding a receipt")
        return values[0]
    return text


def decode(text: str) -> Receipt:
    """The parts of a payload (or of a check-page address carrying one); ``ReceiptRefused``
    ``receipt_encoding`` naming what is wrong. Verifies nothing."""
    if len(text) > MAX_TEXT:
        raise ReceiptRefused("receipt_encoding", f"the text is {len(text)} characters; a receipt payload is at most {MAX_TEXT}")
    letters = "".join(payload_of(text).split()).replace("-", "").upper().translate(_TYPED)
    if not letters:
        raise ReceiptRefused("receipt_encoding", "the text is empty")
    bad = sorted({c for c in letters if c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"})
    if bad:
        raise ReceiptRefused("receipt_encoding", f"not base32: the text holds {''.join(bad)[:20]!r}")
    try:
        raw = base64.b32decode(letters + "=" * (-len(letters) % 8))
    except ValueError:
        raise ReceiptRefused("receipt_encoding", f"not base32: {len(letters)} letters cannot be a whole payload") from None
    if not raw or raw[0] != VERSION:
        raise ReceiptRefused("receipt_encoding", f"unknown payload version {raw[0] if raw else 'none'} (this reader knows {VERSION})")
    pos = 1
    seq, pos = _read_uvarint(raw, pos)
    if pos >= len(raw):
        raise ReceiptRefused("receipt_encoding", "the payload is cut short before the kiosk id")
    n = raw[pos]
    kiosk_raw, pos = raw[pos + 1:pos + 1 + n], pos + 1 + n
    signature, pos = raw[pos:pos + 64], pos + 64
    if len(kiosk_raw) != n or len(signature) != 64:
        raise ReceiptRefused("receipt_encoding", "the payload is cut short before the end of its signature")
    try:
        kiosk = kiosk_raw.decode("ascii")
    except UnicodeDecodeError:
        raise ReceiptRefused("receipt_encoding", "the kiosk id is not ASCII") from None
    try:
        msgspec.convert(kiosk, KioskId)
    except msgspec.ValidationError:
        raise ReceiptRefused("receipt_encoding", f"{kiosk[:20]!r} is not a kiosk id") from None
    inflate = zlib.decompressobj(-15)
    try:
        event = inflate.decompress(raw[pos:], MAX_EVENT_BYTES)
    except zlib.error as exc:
        raise ReceiptRefused("receipt_encoding", f"the event part is not deflate data ({exc})") from None
    if inflate.unconsumed_tail:
        raise ReceiptRefused("receipt_encoding", f"the event is over {MAX_EVENT_BYTES} bytes")
    if not inflate.eof:
        raise ReceiptRefused("receipt_encoding", "the event part is cut short")
    if inflate.unused_data:
        raise ReceiptRefused("receipt_encoding", f"{len(inflate.unused_data)} bytes follow the event")
    return Receipt(kiosk, seq, signature.hex(), event)


def verify(text: str, published: PublishedKeys) -> Checked:
    """Decode and check a payload against the published keys: the kiosk is published, the
    signature verifies under a key valid at the receipt's seq, and the event is that
    kiosk's. ``ReceiptRefused`` names the first thing that is wrong."""
    r = decode(text)
    kiosk = next((k for k in published.kiosks if k.kiosk == r.kiosk), None)
    if kiosk is None:
        raise ReceiptRefused("receipt_unknown_kiosk", f"the published keys name no kiosk {r.kiosk}", kiosk=r.kiosk)
    message = r.message()
    valid = windows_at(kiosk.keys, r.seq)
    signer = next((w for w in valid if _verifies(w.public_key, message, r.signature)), None)
    if signer is None:
        other = next((w for w in kiosk.keys if w not in valid and _verifies(w.public_key, message, r.signature)), None)
        if other is not None:
            until = "on" if other.to_seq is None else f"to {other.to_seq}"
            raise ReceiptRefused("receipt_key_window", f"signed by a key of kiosk {r.kiosk} that signs receipts of seq "
                                 f"{other.from_seq} {until}, not seq {r.seq}", kiosk=r.kiosk, seq=r.seq)
        raise ReceiptRefused("receipt_signature", f"the signature does not verify under any key of kiosk {r.kiosk}: "
                             "the receipt was altered or is not this kiosk's", kiosk=r.kiosk, seq=r.seq)
    try:
        event = kinds.decode_event(r.event_bytes, "kiosk")
    except codec.DecodeError as exc:
        raise ReceiptRefused("receipt_event", f"the signed event does not decode: {exc.message}", kiosk=r.kiosk) from None
    if not event.id.startswith(r.kiosk + "-"):
        raise ReceiptRefused("receipt_event", f"the event {event.id} is not kiosk {r.kiosk}'s", kiosk=r.kiosk)
    return Checked(r, event, kinds.tag_of(event), signer.public_key, kiosk.status)


def windows_at(windows: Sequence[KeyWindow], seq: int) -> list[KeyWindow]:
    """The keys valid for a receipt of ``seq`` (two at a rotation's seq: the old key signed
    receipts until the switch, the new one after it)."""
    return [w for w in windows if w.from_seq <= seq and (w.to_seq is None or seq <= w.to_seq)]


def _verifies(public_key: str, message: bytes, signature: str) -> bool:
    try:
        VerifyKey(public_key).verify("receipt", message, signature)
    except (BadSignature, BadKey):
        return False
    return True


# ---------------------------------------------------------------- the published keys


def key_windows(history: Sequence[tuple[int, str]], fence: int | None = None) -> list[KeyWindow]:
    """Each key of a kiosk's history ``(from_seq, public_key)`` (in the order added, as
    ``sync.keys.key_for_seq`` reads it) with the window of receipts it signs; ``fence``:
    central staff retired the current key from that batch on (a forced re-key)."""
    out = []
    for i, (from_seq, key) in enumerate(history):
        to_seq = history[i + 1][0] if i + 1 < len(history) else fence
        out.append(KeyWindow(public_key=key, from_seq=from_seq, to_seq=to_seq))
    return out


def keys_body(server_key: str, exported_at: int, kiosks: list[KioskKeys]) -> bytes:
    """The canonical bytes the server signs (domain ``keys``)."""
    return codec.encode(PublishedKeys(v=KEYS_VERSION, kind="jifen-keys", server_key=server_key,
                                      exported_at=exported_at, kiosks=sorted(kiosks, key=lambda k: k.kiosk)))


def keys_file(body: bytes, signature: str) -> bytes:
    """The keys file: the signed body on the first line, ``signature <hex>`` on the second."""
    return body + b"\nsignature " + signature.encode("ascii") + b"\n"


def read_keys_file(data: bytes, server_key: str | None = None) -> PublishedKeys:
    """A keys file, its signature verified under the server key it names — and that key,
    when ``server_key`` is given (hex or fingerprint), is the one expected.
    ``ReceiptRefused`` ``keys_file`` names what is wrong."""
    lines = data.rstrip(b"\n").split(b"\n")
    if len(lines) != 2 or not lines[1].startswith(b"signature "):
        raise ReceiptRefused("keys_file", "not a keys file: expected the keys on one line and 'signature <hex>' on the next")
    body, signature = lines[0], lines[1][len(b"signature "):].decode("ascii", "replace").strip()
    try:
        published = codec.decode(body, PublishedKeys)
    except codec.DecodeError as exc:
        raise ReceiptRefused("keys_file", f"the keys do not decode: {exc.message}") from None
    if published.v != KEYS_VERSION:
        raise ReceiptRefused("keys_file", f"keys file version {published.v} is not {KEYS_VERSION}")
    try:
        key = VerifyKey(published.server_key)
    except BadKey as exc:
        raise ReceiptRefused("keys_file", str(exc)) from None
    if server_key is not None:
        want = server_key.strip()
        if want.lower() != key.hex and want.upper() != key.fingerprint():
            raise ReceiptRefused("keys_file", f"the keys file is signed by server key {key.fingerprint()}, not {want[:64]}")
    try:
        key.verify("keys", body, signature)
    except BadSignature as exc:
        raise ReceiptRefused("keys_file", f"the keys file's signature does not verify under its server key: {exc}") from None
    return published


# ---------------------------------------------------------------- varints


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_uvarint(raw: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(raw) or shift > 56:
            raise ReceiptRefused("receipt_encoding", "the payload is cut short in its seq")
        byte = raw[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if n < 1:
                raise ReceiptRefused("receipt_encoding", "the receipt's seq is 0; seqs start at 1")
            return n, pos
