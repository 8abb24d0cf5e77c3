"""Checkpoints as Merkle tree heads: each is signed as a C2SP note and published, the
proof endpoints answer proofs that verify against the notes, and ``audit`` catches a
tree head that no longer recomputes or a note that was altered."""

import base64
import sqlite3

import msgspec
import pytest

from schema.wire import CheckpointNoteRec
from server.services.audit import audit
from server.services.checkpoint import make_checkpoint
from server.store import checkpoints as store
from sync import checkpoint as cp
from sync import merkle, note
from sync.signing import VerifyKey
from tests.server.helpers import reply_of
from tests.server.staff.conftest import CARD_C, SQ01_CARD


@pytest.fixture
def logged(kiosk, ctx, clock):
    """Three checkpoints with kiosk batches between them."""
    heads = [make_checkpoint(ctx)]
    for card in (SQ01_CARD, CARD_C):
        clock.advance(60_000)
        assert kiosk.push(kiosk.batch(kiosk.award(card, "ZYFW", 10))).status_code == 200
        heads.append(make_checkpoint(ctx))
    return heads


def signed_note(ctx, text):
    return note.verify(text, cp.log_origin(ctx.key.public_hex), VerifyKey(ctx.key.public_hex))


def test_each_checkpoint_is_a_signed_tree_head_in_the_feed(ctx, kiosk, logged):
    page = reply_of(kiosk.pull(limit=5000), ctx)
    [change] = [c for c in page["changes"] if c["kind"] == "checkpoint_note"]
    rec = msgspec.convert(change["data"], CheckpointNoteRec)
    head = signed_note(ctx, rec.note)
    assert rec.n == logged[-1]["n"] and head.size == logged[-1]["size"]
    with ctx.store.read() as db:
        leaves = store.log_leaves_from(db, 0, head.size)
    assert head.root == merkle.root(cp.tree_hashes(leaves))
    assert audit(ctx).ok


def test_consistency_proofs_verify_between_the_notes(ctx, client, logged):
    with ctx.store.read() as db:
        notes = [signed_note(ctx, r["note"]) for r in store.all_tree_heads(db)]
    assert len(notes) == 3
    for old in notes:
        for new in notes:
            if old.size > new.size:
                continue
            resp = client.get("/v1/log/consistency", params={"old": old.size, "new": new.size})
            assert resp.status_code == 200, resp.text
            proof = [base64.b64decode(p) for p in resp.json()["proof"]]
            merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    resp = client.get("/v1/log/consistency", params={"old": 1, "new": notes[-1].size + 1})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "proof_unavailable"


def test_inclusion_of_a_batch_verifies_against_the_latest_note(ctx, client, kiosk, logged):
    with ctx.store.read() as db:
        latest = signed_note(ctx, store.latest_tree_head(db)["note"])
    resp = client.get("/v1/log/inclusion", params={"kiosk": kiosk.id, "seq": 2})
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["size"] == latest.size
    merkle.verify_inclusion(got["index"], got["size"], merkle.leaf_hash(bytes.fromhex(got["leaf"])),
                            [base64.b64decode(p) for p in got["proof"]], latest.root)
    resp = client.get("/v1/log/inclusion", params={"kiosk": kiosk.id, "seq": 99})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "proof_unavailable"


def tamper(settings, sql: str, *args) -> None:
    conn = sqlite3.connect(settings.db_path)
    with conn:
        conn.execute(sql, args)
    conn.close()


def tree_failures(ctx, subject: str, words: str) -> bool:
    return any(f["check"] == "tree" and f["subject"] == subject and words in f["message"] for f in audit(ctx).failures)


def test_audit_catches_an_altered_tree_head(ctx, settings, logged):
    size = logged[1]["size"]
    tamper(settings, "UPDATE tree_heads SET note = replace(note, ?, ?) WHERE n = 2", f"\n{size}\n", f"\n{size + 1}\n")
    assert tree_failures(ctx, "tree_head/2", "does not verify")


def test_audit_catches_a_tree_head_row_that_differs_from_its_note(ctx, settings, logged):
    tamper(settings, "UPDATE tree_heads SET root = ? WHERE n = 3", "ab" * 32)
    assert tree_failures(ctx, "tree_head/3", "differs from its signed note")


def test_a_checkpoint_from_before_the_tree_gets_its_tree_head(ctx, settings, logged):
    """A server upgraded to schema 17 seals its latest checkpoint when next asked to."""
    tamper(settings, "DELETE FROM tree_heads")
    assert make_checkpoint(ctx)["new"] is False
    with ctx.store.read() as db:
        assert [r["n"] for r in store.all_tree_heads(db)] == [3]
    assert audit(ctx).ok


def test_the_stored_merkle_nodes_are_every_complete_subtree_and_audit_names_an_edited_one(ctx, settings, logged):
    size = logged[-1]["size"]
    with ctx.store.read() as db:
        stored = store.all_nodes(db)
        hashes = cp.tree_hashes(store.log_leaves_from(db, 0, size))
    whole = merkle.nodes_of(hashes)
    assert stored == {(lv, ix): whole(lv, ix).hex() for lv in range(size.bit_length()) for ix in range(size >> lv)}
    tamper(settings, "UPDATE log_nodes SET hash = ? WHERE level = 0 AND idx = 1", "cd" * 32)
    assert tree_failures(ctx, "log_node/0/1", "differs from the subtree")
    tamper(settings, "DELETE FROM log_nodes WHERE level = 1 AND idx = 0")
    assert tree_failures(ctx, "log_node/1/0", "missing")


def test_a_log_from_before_the_stored_nodes_gets_them_at_the_next_checkpoint(ctx, client, settings, logged):
    """A server upgraded to schema 19: proofs are refused by name until a checkpoint grows
    the nodes over every leaf logged before, then they are the same proofs."""
    tamper(settings, "DELETE FROM log_nodes")
    resp = client.get("/v1/log/consistency", params={"old": 1, "new": logged[-1]["size"]})
    assert resp.status_code == 404 and "Merkle nodes cover 0" in resp.json()["error"]["message"]
    make_checkpoint(ctx)
    test_consistency_proofs_verify_between_the_notes(ctx, client, logged)
    assert audit(ctx).ok
