"""Checking the server's checkpoint notes before keeping them (docs/PROTOCOL.md § 13).

A pulled ``checkpoint_note`` must verify under the pinned server key (else the page is
refused whole, ``Offline``, like any page that does not verify). The first one is taken
as it is; each later one must be proven consistent with the last one this kiosk accepted,
by the server's consistency proof checked against both roots — not trusted for coming
later in the feed. One that verifies but is not proven (a smaller tree, another root at
the same size, a proof that fails or that the server cannot give) is evidence that the
log was rewritten: it is not kept, and the sync round raises the standing checkpoint alert.
"""

import base64
import binascii

from kiosk.errors import Offline
from schema.feeds import FEEDS
from schema.wire import Change
from sync import codec, merkle, note
from sync.checkpoint import log_origin
from sync.signing import BadKey, VerifyKey


def check_notes(changes: list[Change], server_key: str, held: dict | None, consistency) -> dict[str, str]:
    """{feed key: alert text} for the notes on this page not to keep. ``held``: the last
    accepted note's row (n, note) or None; ``consistency(old, new)``: the server's proof
    (list of 32-byte nodes), or None when it answers it has none."""
    conflicts: dict[str, str] = {}
    rows = [ch for ch in changes if ch.kind == "checkpoint_note" and ch.data is not None and bytes(ch.data) != b"null"]
    for ch in rows:
        try:
            rec = codec.decode(bytes(ch.data), FEEDS["checkpoint_note"].record)
            new = note.verify(rec.note, log_origin(server_key), VerifyKey(server_key))
        except (codec.DecodeError, note.BadNote, BadKey) as exc:
            raise Offline(f"checkpoint note {ch.key} does not verify under the pinned server key: {exc}") from None
        if held is None or held["note"] == rec.note:
            continue
        old = note.parse(held["note"])[0]
        why = _unproven(held["n"], old, rec.n, new, consistency)
        if why:
            conflicts[ch.key] = f"checkpoint note {rec.n} (size {new.size}) {why} note {held['n']} (size {old.size}) held here"
    return conflicts


def _unproven(held_n: int, old: note.Checkpoint, n: int, new: note.Checkpoint, consistency) -> str | None:
    if n <= held_n:
        return "is not newer than"
    if new.size < old.size:
        return "heads a smaller tree than"
    proof = [] if new.size == old.size else consistency(old.size, new.size)
    if proof is None:
        return "has no consistency proof from"
    try:
        merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    except merkle.BadProof as exc:
        return f"is not proven consistent ({exc}) with"
    return None


def nodes(proof: list[str]) -> list[bytes]:
    """A proof's base64 nodes as bytes (``Offline`` for a garbled one)."""
    try:
        return [base64.b64decode(p, validate=True) for p in proof]
    except (binascii.Error, ValueError):
        raise Offline("garbled consistency proof: a node is not base64") from None
