"""Ed25519 with domain separation: the only module that touches the crypto primitives.

Every signature covers ``b"jifen/v1/" + domain + b"\\x00" + message``, so a signature made
for one purpose (a batch) can never be replayed as another (a pull page, an enrolment).
"""

import base64
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

Domain = Literal["batch", "pull", "response", "enroll", "checkpoint", "central", "rotate", "checkpoint-state", "kiosk-key", "lookup", "history", "receipt", "keys", "resident-lookup", "resident"]
DOMAINS: frozenset[str] = frozenset(Domain.__args__)  # type: ignore[attr-defined]


class BadSignature(Exception):
    """A signature that does not verify over the given bytes under the given key."""


class BadKey(ValueError):
    """Key material that is not a 32-byte Ed25519 key."""


def _framed(domain: str, message: bytes) -> bytes:
    if domain not in DOMAINS:
        raise ValueError(f"unknown signing domain {domain!r}")
    return b"jifen/v1/" + domain.encode("ascii") + b"\x00" + message


def _note_message(note_body: bytes) -> bytes:
    if note_body.startswith(b"jifen/v1/"):
        raise ValueError("a signed note's body may not start with jifen/v1/, the framed signatures' prefix")
    return note_body


class SigningKey:
    """A private key. Made from 32 seed bytes, which the caller supplies (no randomness
    here: tests use fixed seeds, the shells use ``os.urandom``)."""

    __slots__ = ("_key", "public_hex")

    def __init__(self, seed: bytes):
        if len(seed) != 32:
            raise BadKey("an Ed25519 seed is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_hex = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ).hex()

    def sign(self, domain: Domain, message: bytes) -> str:
        """Hex signature of ``message`` under ``domain``."""
        return self._key.sign(_framed(domain, message)).hex()

    def sign_note(self, note_body: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature of a C2SP signed note's body (``sync.note``), which
        standard note verifiers check without our prefix. No replay across purposes: every
        framed message starts with ``jifen/v1/`` and a note body may not (``_note_message``)."""
        return self._key.sign(_note_message(note_body))

    def seed(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )


class VerifyKey:
    """A public key, parsed once and reused (parsing costs more than a verify)."""

    __slots__ = ("_key", "hex")

    def __init__(self, public_hex: str):
        try:
            raw = bytes.fromhex(public_hex)
            if len(raw) != 32:
                raise ValueError
            self._key = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise BadKey(f"not a 32-byte hex Ed25519 public key: {public_hex[:80]!r}") from None
        self.hex = public_hex

    def verify(self, domain: Domain, message: bytes, signature_hex: str) -> None:
        """Raise ``BadSignature`` unless ``signature_hex`` signs ``message`` under ``domain``."""
        try:
            sig = bytes.fromhex(signature_hex)
        except (ValueError, TypeError):
            raise BadSignature("signature is not hex") from None
        if len(sig) != 64:
            raise BadSignature("signature is not 64 bytes")
        try:
            self._key.verify(sig, _framed(domain, message))
        except InvalidSignature:
            raise BadSignature("signature does not verify") from None

    def verify_note(self, note_body: bytes, signature: bytes) -> None:
        """Raise ``BadSignature`` unless ``signature`` is this key's raw signature of the note body."""
        if len(signature) != 64:
            raise BadSignature("signature is not 64 bytes")
        try:
            self._key.verify(signature, _note_message(note_body))
        except InvalidSignature:
            raise BadSignature("signature does not verify") from None

    def raw(self) -> bytes:
        return bytes.fromhex(self.hex)

    def fingerprint(self) -> str:
        """A short, human-comparable form of the key (first 16 base32 chars of the key)."""
        return base64.b32encode(bytes.fromhex(self.hex)).decode()[:16]


def verify(public_hex: str, domain: Domain, message: bytes, signature_hex: str) -> None:
    VerifyKey(public_hex).verify(domain, message, signature_hex)
