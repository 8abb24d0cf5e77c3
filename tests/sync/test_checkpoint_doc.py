"""docs/PROTOCOL.md § 10: the checkpoint worked example is recomputed from the code."""

import re
from pathlib import Path

from schema.types import GENESIS
from sync import checkpoint as cp
from sync import codec
from sync.signing import SigningKey, VerifyKey

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
SERVER = SigningKey(bytes([2]) * 32)
BATCH_HASH = "07a915e6e173ba86434dffaec48e562e2aacc73f9648414d93427de31f531ae8"
POSTINGS = [("K0001-1", "resident:5101810000001", 2), ("K0001-1", "programme:issued", -2),
            ("K0001-2", "resident:5101810000001", -50), ("K0001-2", "shop:S01", 50)]
MOVES = [("K0001-2", "S01", "G01", -1)]


def shown(label: str) -> str:
    return re.search(rf"^{re.escape(label)} (\S+)$", DOC, re.M).group(1)


def test_checkpoint_example_matches_the_code():
    effects = cp.effects_digest(POSTINGS, MOVES)
    assert shown("effects input") == codec.encode({"moves": [list(m) for m in MOVES], "postings": [list(p) for p in POSTINGS]}).decode()
    assert shown("effects") == effects
    leaf = cp.leaf("K0001", 1, BATCH_HASH, effects)
    assert shown("leaf") == leaf
    head = cp.extend(GENESIS, [leaf])
    assert shown("head 1") == head
    body = cp.body(1, 1, head, 1764039780000)
    assert shown("signed") == body.decode()
    sig = shown("Jifen-Signature (domain checkpoint)")
    assert sig == SERVER.sign("checkpoint", body)
    VerifyKey(SERVER.public_hex).verify("checkpoint", body, sig)


def test_extend_is_a_chain():
    a, b = "a" * 64, "b" * 64
    assert cp.extend(cp.extend(GENESIS, [a]), [b]) == cp.extend(GENESIS, [a, b]) != cp.extend(GENESIS, [b, a])


def test_board_and_checkpoint_kinds_are_documented():
    for kind in ("board", "checkpoint"):
        assert f"| `{kind}` |" in DOC
