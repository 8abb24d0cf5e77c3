"""The checkpoint log as a Merkle tree (RFC 9162, docs/PROTOCOL.md § 13).

Each checkpoint signed from server schema 17 on is also a tree head over the same leaves
as the hash chain (``server.services.checkpoint``), signed as a C2SP checkpoint note
(``seal``) and published in the feed (kind ``checkpoint_note``). Anyone may then ask for
a consistency proof between two tree sizes, and for the inclusion proof of one batch
(``GET /v1/log/consistency``, ``GET /v1/log/inclusion``): the nodes are hashes and reveal
nothing but the log's shape. ``check_tree`` (run by ``audit``) recomputes every stored tree
head from the leaves recomputed from the stored batches, checks each note's signature
and proves each tree head consistent with the one before.
"""

import base64

from schema.wire import CheckpointNoteRec, ConsistencyReply, InclusionReply
from server.services import feed
from server.services.context import Context
from server.store import checkpoints as store
from sync import checkpoint as cp
from sync import merkle, note
from sync.protocol import RequestRejected
from sync.signing import VerifyKey


def grow(db, size: int) -> None:
    """Store the Merkle nodes the log's first ``size`` leaves complete (``log_nodes``), from
    where they stop: each appended leaf, or at the first checkpoint after server schema 19
    every leaf logged before it."""
    have = store.node_count(db)
    if have >= size:
        return
    new: dict[tuple[int, int], bytes] = {}

    def node(level: int, idx: int) -> bytes:
        return new[level, idx] if (level, idx) in new else store.node(db, level, idx)

    for i, h in enumerate(cp.tree_hashes(store.log_leaves_from(db, have, size)), start=have):
        new.update(((lv, ix), nh) for lv, ix, nh in merkle.appended(i, h, node))
    store.insert_nodes(db, [(lv, ix, h) for (lv, ix), h in new.items()])


def _nodes(db, size: int) -> merkle.Node:
    """The stored nodes, refused by name when they do not yet cover ``size`` leaves."""
    if store.node_count(db) < size:
        raise RequestRejected("proof_unavailable", f"the log's Merkle nodes cover {store.node_count(db)} of {size} leaves "
                              "until the next checkpoint", size=size)
    return lambda level, idx: store.node(db, level, idx)


def seal(ctx: Context, db, n: int, size: int) -> dict:
    """Sign checkpoint ``n``'s tree head over the first ``size`` leaves; store and publish it."""
    grow(db, size)
    root = merkle.root_at(size, _nodes(db, size))
    origin = cp.log_origin(ctx.key.public_hex)
    text = note.sign(ctx.key, origin, origin, size, root)
    store.insert_tree_head(db, n, size, root.hex(), text)
    feed.publish(db, "checkpoint_note", CheckpointNoteRec(n=n, note=text))
    return store.tree_head(db, n)


def ensure(ctx: Context, db, checkpoint: dict) -> None:
    """Seal a checkpoint signed before schema 17 (no tree head yet), once."""
    if store.tree_head(db, checkpoint["n"]) is None:
        seal(ctx, db, checkpoint["n"], checkpoint["size"])


def latest(ctx: Context) -> dict | None:
    """The newest tree head (n, size, root hex, note), or None before the first."""
    with ctx.store.read() as db:
        return store.latest_tree_head(db)


def consistency(ctx: Context, old: int, new: int) -> ConsistencyReply:
    """The proof that the log's first ``old`` leaves are the first of its ``new``."""
    with ctx.store.read() as db:
        size, _ = store.log_head(db)
        if not 0 <= old <= new <= size:
            raise RequestRejected("proof_unavailable", f"no consistency proof from size {old} to {new}: the log holds {size}",
                                  old=old, new=new)
        proof = merkle.consistency_proof_at(old, new, _nodes(db, new))
    return ConsistencyReply(old=old, new=new, proof=_b64(proof))


def inclusion(ctx: Context, kiosk: str, seq: int, size: int | None = None) -> InclusionReply:
    """The audit path of batch ``kiosk``/``seq`` in the tree of ``size`` leaves (default:
    the newest signed tree head's)."""
    with ctx.store.read() as db:
        if size is None:
            head = store.latest_tree_head(db)
            size = head["size"] if head else 0
        n = store.log_position(db, kiosk, seq)
        if n is None or n > size:
            raise RequestRejected("proof_unavailable", f"batch {kiosk}/{seq} is not in the log of {size} leaves (not yet checkpointed?)",
                                  kiosk=kiosk, seq=seq)
        if store.log_head(db)[0] < size:
            raise RequestRejected("proof_unavailable", f"the log holds fewer than {size} leaves", size=size)
        proof = merkle.inclusion_proof_at(n - 1, size, _nodes(db, size))
        leaf = store.log_leaves_from(db, n - 1, n)[0]
    return InclusionReply(kiosk=kiosk, seq=seq, index=n - 1, size=size, leaf=leaf, proof=_b64(proof))


def check_tree(ctx: Context, db, report, leaves: list[str]) -> None:
    """Audit: every tree head is the root over the recomputed ``leaves``, its note verifies
    under the server key and says the same, and each is consistent with the one before."""
    hashes = cp.tree_hashes(leaves)
    _check_nodes(db, report, hashes)
    origin, public = cp.log_origin(ctx.key.public_hex), VerifyKey(ctx.key.public_hex)
    prev = None
    for row in store.all_tree_heads(db):
        subject = f"tree_head/{row['n']}"
        try:
            signed = note.verify(row["note"], origin, public)
        except note.BadNote as exc:
            report.fail("tree", subject, f"note: {exc}")
            continue
        if (signed.size, signed.root.hex(), signed.origin) != (row["size"], row["root"], origin):
            report.fail("tree", subject, "the row differs from its signed note")
        if signed.size > len(hashes):
            report.fail("tree", subject, f"signed over {signed.size} leaves but the log holds {len(hashes)}")
            continue
        if merkle.root(hashes[:signed.size]) != signed.root:
            report.fail("tree", subject, f"the stored batches no longer produce the signed tree head at size {signed.size}")
            continue
        if prev is not None:
            try:
                proof = merkle.consistency_proof(prev.size, hashes[:signed.size]) if prev.size <= signed.size else []
                merkle.verify_consistency(prev.size, signed.size, prev.root, signed.root, proof)
            except merkle.BadProof as exc:
                report.fail("tree", subject, f"not consistent with the tree head before it: {exc}")
        prev = signed


def _check_nodes(db, report, hashes: list[bytes]) -> None:
    """Audit: the stored Merkle nodes are the complete subtrees of the recomputed leaves
    (a tree head or a proof read from an edited node would not be the log's)."""
    stored = store.all_nodes(db)
    if not stored:
        return  # a log not yet grown past schema 19 (its next checkpoint grows it)
    whole = merkle.nodes_of(hashes)
    covered = store.node_count(db)
    expected = {(lv, ix) for lv in range(covered.bit_length()) for ix in range(covered >> lv)}
    for key in sorted(expected | set(stored)):
        subject = f"log_node/{key[0]}/{key[1]}"
        if key not in stored:
            report.fail("tree", subject, "missing: the stored Merkle nodes have a gap")
        elif key not in expected or key[1] >= len(hashes) >> key[0]:
            report.fail("tree", subject, "a Merkle node beyond the logged leaves")
        elif whole(*key).hex() != stored[key]:
            report.fail("tree", subject, "differs from the subtree of the stored batches' leaves")


def _b64(nodes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in nodes]
