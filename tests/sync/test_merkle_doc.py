"""docs/PROTOCOL.md § 13: the Merkle tree worked example is recomputed from the code, byte
for byte: entries, tree leaves, roots, the inclusion and consistency proofs, the note."""

import re
from pathlib import Path

from sync import checkpoint as cp
from sync import codec, merkle, note
from sync.signing import SigningKey, VerifyKey

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
SECTION = DOC[DOC.index("## 13. The Merkle tree log"):]
SERVER = SigningKey(bytes([2]) * 32)
ENTRIES = [codec.digest(f"example batch {i}".encode()) for i in range(1, 6)]
HASHES = cp.tree_hashes(ENTRIES)


def shown(label: str) -> list[str]:
    return re.search(rf"^{re.escape(label)} ([0-9a-f ]+)$", SECTION, re.M).group(1).split(" ")


def test_entries_and_tree_leaves():
    for i, entry in enumerate(ENTRIES):
        assert shown(f"entry {i}") == [entry]
        assert shown(f"tree leaf {i}") == [merkle.leaf_hash(bytes.fromhex(entry)).hex()]


def test_roots_and_proofs():
    root3, root5 = merkle.root(HASHES[:3]), merkle.root(HASHES)
    assert shown("root of 3") == [root3.hex()] and shown("root of 5") == [root5.hex()]
    inclusion = shown("inclusion of 2 in 5")
    assert inclusion == [p.hex() for p in merkle.inclusion_proof(2, HASHES)]
    merkle.verify_inclusion(2, 5, HASHES[2], [bytes.fromhex(p) for p in inclusion], root5)
    consistency = shown("consistency 3 to 5")
    assert consistency == [p.hex() for p in merkle.consistency_proof(3, HASHES)]
    merkle.verify_consistency(3, 5, root3, root5, [bytes.fromhex(p) for p in consistency])


def test_note_text():
    text = re.search(r"```note\n(.*?)```", SECTION, re.S).group(1)
    origin = cp.log_origin(SERVER.public_hex)
    assert text == note.sign(SERVER, origin, origin, 5, merkle.root(HASHES))
    assert note.verify(text, origin, VerifyKey(SERVER.public_hex)) == note.Checkpoint(origin, 5, merkle.root(HASHES))


def test_kind_and_error_are_documented():
    assert "| `checkpoint_note` |" in DOC and "| `proof_unavailable` | 404 |" in DOC
