"""Switches for the fault, attack and load suites: JIFEN_LONG runs the longer variants,
JIFEN_SEED=n reruns exactly one seed of a seeded suite. (The demo server folder, clock and
in-process server are the root conftest's.)"""

import os

LONG = os.environ.get("JIFEN_LONG") == "1"
#: JIFEN_SEED=n reruns exactly one seed of a seeded suite
SEED = os.environ.get("JIFEN_SEED")


def seeds(short: int, long: int, base: int = 1) -> list[int]:
    """The seeds a seeded test runs: JIFEN_SEED alone, else ``short`` (``long`` with JIFEN_LONG=1)."""
    if SEED is not None:
        return [int(SEED)]
    return list(range(base, base + (long if LONG else short)))
