"""Lists cut into pieces of bounded size, and the ``?,?,…`` placeholders for one piece.

Both stores look rows up by lists of keys (``key IN (?, ?, …)``) longer than SQLite binds
in one statement, and both sides cut a list of events into batches of at most so many.
The server and the kiosk may not import each other, so the one copy lives here. Pure.
"""

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: keys per ``IN`` lookup: far below every SQLite default limit on bound parameters
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive pieces of ``items``, each ``size`` long but the last; none for an empty list."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    for i in range(0, len(items), size):
        yield items[i : i + size]


def marks(n: int) -> str:
    """``?,?,…`` for ``n`` parameters."""
    return ",".join("?" * n)
