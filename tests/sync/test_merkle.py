"""The Merkle log against a brute-force tree: every size up to 70, every index and every
(old, new) pair, proofs verify, and any tampering is refused."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import merkle

MAX = 70


def brute_root(entries: list[bytes]) -> bytes:
    """RFC 9162's MTH computed the other way round: hash level by level, bottom up,
    promoting a lone right node unchanged (the same tree as the recursive split)."""
    level = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
    if not level:
        return hashlib.sha256(b"").digest()
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


ENTRIES = [f"entry {i}".encode() for i in range(MAX)]
HASHES = [merkle.leaf_hash(e) for e in ENTRIES]
ROOTS = [brute_root(ENTRIES[:n]) for n in range(MAX + 1)]


def test_root_matches_brute_force_at_every_size():
    for n in range(MAX + 1):
        assert merkle.root(HASHES[:n]) == ROOTS[n]


def test_every_inclusion_proof_verifies():
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = merkle.inclusion_proof(i, HASHES[:n])
            merkle.verify_inclusion(i, n, HASHES[i], proof, ROOTS[n])


def test_every_consistency_proof_verifies():
    for n in range(MAX + 1):
        for m in range(n + 1):
            proof = merkle.consistency_proof(m, HASHES[:n])
            merkle.verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)


def _flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 1]) + b[1:]


def _tampered(proof: list[bytes]):
    """Every way of altering a proof: flip a node, drop one, add one, swap two."""
    for j in range(len(proof)):
        yield proof[:j] + [_flip(proof[j])] + proof[j + 1:]
        yield proof[:j] + proof[j + 1:]
    yield proof + [HASHES[0]]
    if len(proof) > 1:
        yield [proof[1], proof[0]] + proof[2:]


def test_tampered_inclusion_is_refused():
    for n in range(1, 40):
        for i in range(n):
            proof = merkle.inclusion_proof(i, HASHES[:n])
            for bad in _tampered(proof):
                if bad == proof:
                    continue
                with pytest.raises(merkle.BadProof):
                    merkle.verify_inclusion(i, n, HASHES[i], bad, ROOTS[n])
            with pytest.raises(merkle.BadProof):  # another leaf at this index
                merkle.verify_inclusion(i, n, HASHES[(i + 1) % MAX], proof, ROOTS[n])
            with pytest.raises(merkle.BadProof):  # a wrong root
                merkle.verify_inclusion(i, n, HASHES[i], proof, _flip(ROOTS[n]))
            if n > 1:
                with pytest.raises(merkle.BadProof):  # the same leaf claimed elsewhere
                    merkle.verify_inclusion((i + 1) % n, n, HASHES[i], proof, ROOTS[n])


def test_tampered_consistency_is_refused():
    for n in range(2, 40):
        for m in range(1, n):
            proof = merkle.consistency_proof(m, HASHES[:n])
            for bad in _tampered(proof):
                if bad == proof:
                    continue
                with pytest.raises(merkle.BadProof):
                    merkle.verify_consistency(m, n, ROOTS[m], ROOTS[n], bad)
            with pytest.raises(merkle.BadProof):
                merkle.verify_consistency(m, n, _flip(ROOTS[m]), ROOTS[n], proof)
            with pytest.raises(merkle.BadProof):
                merkle.verify_consistency(m, n, ROOTS[m], _flip(ROOTS[n]), proof)
            with pytest.raises(merkle.BadProof):
                merkle.verify_consistency(m, n, ROOTS[m], ROOTS[n], [])


def test_a_rewritten_history_has_no_consistency_proof():
    """A log that changed entry 0 after size 3 cannot prove 3 → 5 with its own proofs."""
    forged = [merkle.leaf_hash(b"forged")] + HASHES[1:5]
    proof = merkle.consistency_proof(3, forged)
    with pytest.raises(merkle.BadProof):
        merkle.verify_consistency(3, 5, ROOTS[3], merkle.root(forged), proof)


def test_bad_sizes_are_refused():
    with pytest.raises(merkle.BadProof, match="outside"):
        merkle.verify_inclusion(5, 5, HASHES[0], [], ROOTS[5])
    with pytest.raises(merkle.BadProof, match="larger"):
        merkle.verify_consistency(6, 5, ROOTS[5], ROOTS[5], [])
    with pytest.raises(merkle.BadProof, match="same size"):
        merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[4], [])
    with pytest.raises(ValueError):
        merkle.inclusion_proof(3, HASHES[:3])
    with pytest.raises(ValueError):
        merkle.consistency_proof(4, HASHES[:3])


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=MAX), st.data())
def test_random_entries_prove_against_brute_force(entries, data):
    hashes = [merkle.leaf_hash(e) for e in entries]
    n = len(entries)
    assert merkle.root(hashes) == brute_root(entries)
    i = data.draw(st.integers(0, n - 1))
    merkle.verify_inclusion(i, n, hashes[i], merkle.inclusion_proof(i, hashes), brute_root(entries))
    m = data.draw(st.integers(0, n))
    merkle.verify_consistency(m, n, brute_root(entries[:m]), brute_root(entries), merkle.consistency_proof(m, hashes))


def test_nodes_stored_as_the_log_grows_give_the_same_heads_and_proofs():
    """``appended`` one entry at a time (as the server stores them) leaves exactly the
    complete subtrees ``nodes_of`` computes, and heads and proofs read from them are the
    ones from the leaves, at every size: one node per entry and level, none twice."""
    stored: dict[tuple[int, int], bytes] = {}

    def node(level: int, index: int) -> bytes:
        return stored[level, index]

    for size, leaf in enumerate(HASHES):
        for level, index, h in merkle.appended(size, leaf, node):
            assert (level, index) not in stored
            stored[level, index] = h
        n = size + 1
        whole = merkle.nodes_of(HASHES[:n])
        assert all(whole(lv, ix) == h for (lv, ix), h in stored.items())
        assert len(stored) == sum(n >> lv for lv in range(n.bit_length()))
        assert merkle.root_at(n, node) == ROOTS[n]
        for i in range(n):
            merkle.verify_inclusion(i, n, HASHES[i], merkle.inclusion_proof_at(i, n, node), ROOTS[n])
        for m in range(n + 1):
            merkle.verify_consistency(m, n, ROOTS[m], ROOTS[n], merkle.consistency_proof_at(m, n, node))
