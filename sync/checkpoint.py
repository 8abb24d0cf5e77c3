"""Checkpoints over the server's batch log: the leaf of one stored batch, the hash chain
over all leaves, and the bytes the server signs. Pure; docs/PROTOCOL.md § 10 gives the
exact byte format.

A leaf commits to a batch's exact bytes (its SHA-256) *and* to the postings and stock
moves the server derived from it, so editing a stored posting changes the leaf even when
the batch bytes are untouched. The log is append-only in checkpoint order, so a newer
checkpoint extends an older one iff the chain recomputed over the first ``size`` leaves
ends at the older checkpoint's head.
"""

from collections.abc import Iterable

from schema.wire import CheckpointBody
from sync import codec


def effects_digest(postings: Iterable[tuple[str, str, int]], moves: Iterable[tuple[str, str, str, int]]) -> str:
    """SHA-256 of the canonical JSON ``{"moves": [[event, shop, sku, delta], ...],
    "postings": [[event, account, amount], ...]}``, each list in the order written."""
    return codec.digest(codec.encode({"moves": [list(m) for m in moves], "postings": [list(p) for p in postings]}))


def leaf(kiosk: str, seq: int, batch_hash: str, effects: str) -> str:
    """SHA-256 of the canonical JSON ``{"effects", "hash", "kiosk", "seq"}``."""
    return codec.digest(codec.encode({"effects": effects, "hash": batch_hash, "kiosk": kiosk, "seq": seq}))


def extend(head: str, leaves: Iterable[str]) -> str:
    """The chain head after appending ``leaves``: head' = sha256(head_hex || leaf_hex)."""
    for lf in leaves:
        head = codec.chain_hash(head, lf.encode("ascii"))
    return head


def body(n: int, size: int, head: str, at: int) -> bytes:
    """The exact bytes signed under domain ``checkpoint``."""
    return codec.encode(CheckpointBody(v=1, n=n, size=size, head=head, at=at))
