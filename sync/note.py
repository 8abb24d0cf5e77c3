"""Tree heads as C2SP signed notes (the ``tlog-checkpoint`` format). Pure.

A checkpoint note is the body ``<origin>\\n<tree size>\\n<base64 root>\\n``, a blank line,
then one line per signature ``— <key name> <base64(key hash || signature)>\\n`` where the key
hash is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || Ed25519 public key) and the
signature is plain Ed25519 over the body bytes, so any C2SP note verifier can check it.
It does not carry our ``jifen/v1/<domain>\\x00`` frame; ``sync.signing.sign_note`` refuses a
body that starts with ``jifen/v1/``, so a note signature can never stand for a framed one
(docs/PROTOCOL.md § 13). Parsing is strict: anything else is a ``BadNote`` naming the fault.
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from sync.signing import BadSignature, SigningKey, VerifyKey

DASH = "\u2014"  # the em dash that starts every signature line
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class BadNote(ValueError):
    """A note that is malformed, or whose signature by the expected key is missing or wrong."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def body(origin: str, size: int, root: bytes) -> bytes:
    """The signed bytes of a checkpoint note."""
    _check_origin(origin)
    if size < 0 or len(root) != 32:
        raise ValueError("a checkpoint has a size >= 0 and a 32-byte root")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n".encode()


def key_hash(name: str, public: VerifyKey) -> bytes:
    """The 4-byte key hash of an Ed25519 note key (signature type 0x01)."""
    return hashlib.sha256(name.encode() + b"\n\x01" + public.raw()).digest()[:4]


def sign(key: SigningKey, name: str, origin: str, size: int, root: bytes) -> str:
    """The full note text: body, blank line, one signature line."""
    _check_name(name)
    b = body(origin, size, root)
    sig = key_hash(name, VerifyKey(key.public_hex)) + key.sign_note(b)
    return b.decode() + f"\n{DASH} {name} {base64.b64encode(sig).decode()}\n"


def parse(text: str) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """The checkpoint and its signatures ``(name, key hash, signature)``; unverified."""
    if not text.endswith("\n"):
        raise BadNote("a note ends with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise BadNote("a note holds no control characters but newlines")
    head, sep, sigs = text.partition("\n\n")
    if not sep:
        raise BadNote("a note has a blank line between its text and its signatures")
    lines = head.split("\n")
    if len(lines) != 3:
        raise BadNote(f"a checkpoint's text is 3 lines (origin, size, root), not {len(lines)}")
    origin, size, root64 = lines
    try:
        _check_origin(origin)
    except ValueError as exc:
        raise BadNote(str(exc)) from None
    if not _SIZE.fullmatch(size):
        raise BadNote(f"the tree size {size[:30]!r} is not a decimal number without leading zeros")
    root = _b64(root64, "root")
    if len(root) != 32:
        raise BadNote(f"the root is {len(root)} bytes, not 32")
    if sigs == "\n" or not sigs:
        raise BadNote("a note carries at least one signature line")
    out = []
    for line in sigs[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not _NAME.fullmatch(parts[1]):
            raise BadNote(f"not a signature line: {line[:60]!r}")
        raw = _b64(parts[2], "signature")
        if len(raw) < 5:
            raise BadNote(f"the signature by {parts[1]} is too short")
        out.append((parts[1], raw[:4], raw[4:]))
    return Checkpoint(origin, int(size), root), out


def verify(text: str, name: str, public: VerifyKey) -> Checkpoint:
    """The checkpoint, once the signature by ``name`` under ``public`` verifies over its body
    (signatures by other keys are ignored, as C2SP says)."""
    cp, sigs = parse(text)
    kh = key_hash(name, public)
    mine = [s for n, h, s in sigs if n == name and h == kh]
    if not mine:
        raise BadNote(f"the note carries no signature by {name}")
    b = text.partition("\n\n")[0].encode() + b"\n"
    for s in mine:
        try:
            public.verify_note(b, s)
            return cp
        except (BadSignature, ValueError):
            pass
    raise BadNote(f"the signature by {name} does not verify over the note")


def _b64(s: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise BadNote(f"the {what} is not base64: {s[:60]!r}") from None
    if base64.b64encode(raw).decode() != s:
        raise BadNote(f"the {what} is not canonical base64")
    return raw


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"a key name is non-empty with no spaces or '+': {name!r}")


def _check_origin(origin: str) -> None:
    if not origin or origin != origin.strip() or "\n" in origin:
        raise ValueError(f"an origin is one non-empty line without outer spaces: {origin[:60]!r}")
    if origin.startswith("jifen/v1/"):
        raise ValueError("an origin may not start with jifen/v1/, the framed signatures' prefix")
