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
from sync import codec, merkle
from sync.signing import VerifyKey


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


# ---------------------------------------------------------------- the staff-side state (v2)
#
# Besides the batch log, a checkpoint seals the state no kiosk signs: staff accounts and
# roles, their community scopes, token hashes, kiosk keys, enrolment codes, review
# resolutions (and pending ones), and the head of the hash-chained audit log. Each table
# is a sorted list of (key, row digest) pairs and its digest is the SHA-256 of that list, so
# a later Merkle log can take the pairs over as leaves unchanged.


def row_digest(values: Iterable) -> str:
    """SHA-256 of the canonical JSON list of one row's covered column values."""
    return codec.digest(codec.encode(list(values)))


def table_digest(rows: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of the canonical JSON ``[[key, row digest], ...]``, sorted by key."""
    return codec.digest(codec.encode([list(r) for r in sorted(rows)]))


def audit_row_hash(prev: str, row: dict) -> str:
    """The audit log's chain: hash_i = sha256(hash_{i-1} || canonical JSON of row i's
    ``{"action", "at", "detail", "id", "staff", "subject"}``); hash_0 is the genesis hash."""
    fields = {k: row[k] for k in ("action", "at", "detail", "id", "staff", "subject")}
    return codec.chain_hash(prev, codec.encode(fields))


def state_body(n: int, audit_id: int, audit_head: str, tables: dict[str, str]) -> bytes:
    """The exact bytes signed under domain ``checkpoint-state`` for checkpoint ``n``:
    ``{"audit": {"head", "id"}, "n", "tables": {table: digest}, "v": 1}``."""
    return codec.encode({"audit": {"head": audit_head, "id": audit_id}, "n": n, "tables": dict(sorted(tables.items())), "v": 1})


def key_trace(kiosk: str, public_key: str, from_seq: int, enroll_code: str | None, rotation: str | None) -> bytes:
    """What the server signs (domain ``kiosk-key``) when it binds a key to a kiosk: the
    used enrolment code's hash, or the SHA-256 of the rotation request the old key signed."""
    return codec.encode({"enroll_code": enroll_code, "from_seq": from_seq, "kiosk": kiosk,
                         "public_key": public_key, "rotation": rotation})


# ---------------------------------------------------------------- the Merkle tree log (v3)
#
# The same leaves, also as the entries of an RFC 9162 Merkle tree (sync.merkle): entry i is
# the 32 raw bytes of leaf i, so its tree leaf hash is sha256(0x00 || leaf bytes). Each
# checkpoint from server schema 17 on signs the tree head as a C2SP note (sync.note) whose
# origin and key name are ``log_origin`` of the server key (docs/PROTOCOL.md § 13).


def tree_hashes(leaves: Iterable[str]) -> list[bytes]:
    """The Merkle leaf hashes of the log's leaves (hex), in log order."""
    return [merkle.leaf_hash(bytes.fromhex(lf)) for lf in leaves]


def log_origin(server_public_hex: str) -> str:
    """The checkpoint notes' origin line and key name: ``jifen/log/`` and the server key's
    fingerprint, so a note names the log it heads and no other server's note passes for it."""
    return "jifen/log/" + VerifyKey(server_public_hex).fingerprint()
