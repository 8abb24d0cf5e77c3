"""Kiosk key history: which key signs which batches, and what a rotation proves.

A kiosk may replace its key (``POST /v1/rotate``) or be given a new one by re-enrolment.
Each key signs the kiosk's batches from its ``from_seq`` until the next key's, so a batch
signed before a rotation took effect still verifies — at push time and in every later
audit. Pure: the history is handed in as ``(from_seq, public_key)`` pairs.
"""

from collections.abc import Sequence

import msgspec


def rotate_proof_message(kiosk: str, from_seq: int, public_key: str) -> bytes:
    """What the NEW key signs (domain ``rotate``) to prove it is held by the kiosk."""
    return f"{kiosk}\n{from_seq}\n{public_key}".encode("ascii")


def key_for_seq(history: Sequence[tuple[int, str]], seq: int) -> str | None:
    """The key that signs batch ``seq``: of the keys in ``history`` (in the order they were
    added), the last whose ``from_seq`` is at or below ``seq``. None before the first."""
    found = None
    for from_seq, key in history:
        if from_seq <= seq and (found is None or from_seq >= found[0]):
            found = (from_seq, key)
    return found[1] if found else None


class _SeqOnly(msgspec.Struct):
    seq: int = 0


def peek_seq(body: bytes) -> int | None:
    """A batch's ``seq``, read only to choose the key to verify it with; the bytes are
    trusted (and strictly decoded) only after that signature verifies."""
    try:
        return msgspec.json.decode(body, type=_SeqOnly).seq
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
