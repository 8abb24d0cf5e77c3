"""Checkpoint notes at the kiosk: the first one is kept; one not signed by the pinned
server key refuses the page; one that cannot be consistent with the note held (a smaller
tree, another root at the same size) is left out and raises the checkpoint alert. The
consistency proof fetched from a real server is tested over HTTP (tests/e2e)."""

import hashlib

import pytest

from schema.wire import CheckpointNoteRec
from sync import checkpoint as cp
from sync import note
from sync.signing import SigningKey


def note_rec(server, n: int, size: int, root_seed: bytes, key=None) -> CheckpointNoteRec:
    key = key or server.key
    origin = cp.log_origin(server.key.public_hex)
    return CheckpointNoteRec(n=n, note=note.sign(key, origin, origin, size, hashlib.sha256(root_seed).digest()))


def held(kiosk) -> list[int]:
    return [r["n"] for r in kiosk.store._rows("SELECT n FROM tree_heads ORDER BY n")]


def test_the_first_note_is_kept(kiosk, server):
    server.put("checkpoint_note", "latest", note_rec(server, 1, 10, b"a"))
    assert kiosk.sync().ok
    assert held(kiosk) == [1] and kiosk.status()["checkpoint_alert"] is None


def test_a_note_not_signed_by_the_pinned_key_refuses_the_page(kiosk, server):
    server.put("checkpoint_note", "latest", note_rec(server, 1, 10, b"a", SigningKey(bytes([5]) * 32)))
    assert not kiosk.sync().ok
    assert held(kiosk) == []


@pytest.mark.parametrize(("why", "n", "size", "seed", "words"), [
    ("smaller tree", 2, 5, b"b", "smaller tree"),
    ("another root at the same size", 2, 10, b"b", "not proven consistent"),
    ("not newer", 1, 12, b"b", "not newer"),
])
def test_a_note_that_cannot_be_consistent_is_left_out(kiosk, server, why, n, size, seed, words):
    server.put("checkpoint_note", "latest", note_rec(server, 1, 10, b"a"))
    assert kiosk.sync().ok
    server.put("checkpoint_note", "latest", note_rec(server, n, size, seed))
    assert kiosk.sync().ok
    assert held(kiosk) == [1]
    assert words in kiosk.status()["checkpoint_alert"]
