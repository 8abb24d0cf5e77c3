"""The one canonical codec: every byte that is signed or hashed is made here.

Canonical form: JSON, UTF-8, object keys sorted, no insignificant whitespace, integers
only (no floats anywhere near a signature). Verifiers never re-encode: a signature is
checked over the exact bytes received, and those bytes are what is stored.
"""

import hashlib
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

_encoder = msgspec.json.Encoder(order="sorted")
_decoders: dict[Any, msgspec.json.Decoder] = {}


class DecodeError(ValueError):
    """Bytes that are not valid JSON of the expected shape. ``path`` names the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def encode(obj: Any) -> bytes:
    """Canonical bytes of a struct, dict, list or scalar."""
    return _encoder.encode(obj)


def decode(data: bytes, type_: type[T]) -> T:
    """Decode canonical (or any valid) JSON into ``type_``, enforcing its constraints."""
    dec = _decoders.get(type_)
    if dec is None:
        dec = _decoders[type_] = msgspec.json.Decoder(type_)
    try:
        return dec.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DecodeError(str(exc)) from None


def to_builtins(obj: Any) -> Any:
    return msgspec.to_builtins(obj)


def digest(data: bytes) -> str:
    """SHA-256 of exact bytes, as lowercase hex: the hash used for chains and checkpoints."""
    return hashlib.sha256(data).hexdigest()


def chain_hash(prev: str, data: bytes) -> str:
    """Link ``data`` to the hash before it: sha256(prev_hex_ascii || data)."""
    return hashlib.sha256(prev.encode("ascii") + data).hexdigest()
