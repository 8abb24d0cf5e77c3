"""``python -m bench.merkle [N]``: the Merkle log's costs at a log of N batches (default
100,000), each printed beside its raw limit measured in the same run: SHA-256 of N - 1
65-byte inputs (the interior nodes), the least a tree head over N leaf hashes can cost. A tree head, an inclusion
proof and a consistency proof are each computed from the leaves (``sync.merkle``: O(N)
per call, no stored nodes), which is what one checkpoint and one proof request cost."""

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
    figures = [("tree head", timed(lambda: merkle.root(leaves))),
               ("inclusion proof", timed(lambda: merkle.inclusion_proof(n // 3, leaves))),
               ("consistency proof", timed(lambda: merkle.consistency_proof(n // 3, leaves)))]
    print(f"Merkle log over {n:,} leaves; raw limit: {n - 1:,} SHA-256 of 65 bytes in {raw * 1000:.1f} ms")
    for name, secs in figures:
        print(f"  {name:<18} {secs * 1000:8.1f} ms  ({secs / raw:.1f}x the raw limit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
