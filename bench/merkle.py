"""``python -m bench.merkle [N]``: the Merkle log's costs at a log of N batches (default
100,000), each printed beside its raw limit measured in the same run: SHA-256 of N - 1
65-byte inputs (the interior nodes), the least a tree head over N leaf hashes can cost.

Two ways are measured side by side: from the leaves (``sync.merkle.root`` and the list
proofs: every leaf hash, O(N) per call — what ``audit`` pays once) and from the stored
complete subtrees (``root_at`` and the ``*_at`` proofs over the nodes ``appended`` keeps,
O(log N) node reads — what a checkpoint and a proof request pay on the server, which keeps
them in ``log_nodes``). Node reads here are dict look-ups; on the server each is one
primary-key read."""

import hashlib
import sys
import time

from sync import merkle


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    n = int((argv or sys.argv[1:] or ["100000"])[0])
    leaves = [merkle.leaf_hash(i.to_bytes(32, "big")) for i in range(n)]
    block = bytes(65)
    raw = timed(lambda: [hashlib.sha256(block).digest() for _ in range(n - 1)])
    stored: dict[tuple[int, int], bytes] = {}

    def node(level: int, index: int) -> bytes:
        return stored[level, index]

    def grow() -> None:
        for i, h in enumerate(leaves):
            stored.update(((lv, ix), nh) for lv, ix, nh in merkle.appended(i, h, node))

    grown = timed(grow)
    i, m = n // 3, n // 3
    figures = [("tree head", timed(lambda: merkle.root(leaves)), timed(lambda: merkle.root_at(n, node))),
               ("inclusion proof", timed(lambda: merkle.inclusion_proof(i, leaves)),
                timed(lambda: merkle.inclusion_proof_at(i, n, node))),
               ("consistency proof", timed(lambda: merkle.consistency_proof(m, leaves)),
                timed(lambda: merkle.consistency_proof_at(m, n, node)))]
    print(f"Merkle log over {n:,} leaves; raw limit: {n - 1:,} SHA-256 of 65 bytes in {raw * 1000:.1f} ms")
    print(f"  storing the nodes as the log grows: {grown * 1000:.1f} ms for all {len(stored):,} "
          f"({grown / n * 1e6:.2f} µs per appended leaf)")
    print(f"  {'':<18} {'from leaves':>12} {'':>10} {'from nodes':>12}")
    for name, whole, fast in figures:
        print(f"  {name:<18} {whole * 1000:9.1f} ms ({whole / raw:4.1f}x raw) {fast * 1000:9.3f} ms ({fast / raw:.5f}x raw)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
