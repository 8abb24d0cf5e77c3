"""Test-only fault hook: named crash points, armed explicitly by a process's entry point.

The crash suite (``tests/faults/test_crash.py``) kills real processes at exact places —
mid-ingest, between postings and commit, between a reply and its acknowledgement — not
only at random moments. Code calls ``crash_point(name)`` at those places. ``jifen-server``
and ``jifen-kiosk`` arm at most one point, from their settings (``JIFEN_CRASH_AT=<point>[:<n>]``),
handing in the action that ends the process; the n-th time (default the first) the point
is reached, the action runs. Unarmed (always, in production) a point costs one dict
lookup. Pure: the action is an argument, so nothing here touches the process itself.
"""

from collections.abc import Callable

#: batch verified, nothing written; the acknowledging transaction about to commit;
#: acknowledged (logged, durable), not yet projected; inside a projection chunk, postings
#: written; a projection chunk written with its cursor, about to commit; committed and
#: projected, reply not sent. The two projection points fire in whichever process projects:
#: ``serve`` (inline, background) or ``jifen-server project`` (``separate``).
SERVER_POINTS = ("server.push.verified", "server.push.before_commit", "server.push.acked", "server.apply.after_postings",
                 "server.project.before_commit", "server.push.after_commit")
#: event inserted, not committed; batches built and signed, not committed; the server applied
#: a batch, the kiosk has not noted it; a pull page verified, not stored
KIOSK_POINTS = ("kiosk.record.before_commit", "kiosk.batch.before_commit", "kiosk.push.after_reply",
                "kiosk.pull.after_reply")
SIDES = {"server": SERVER_POINTS, "kiosk": KIOSK_POINTS}

_left: dict[str, int] = {}
_action: Callable[[], None] | None = None


def arm(spec: str | None, side: str, action: Callable[[], None]) -> None:
    """Arm the point ``spec`` (``<point>[:<n>]``) names, if it is one of ``side``'s
    (``server`` or ``kiosk``); a point of the other side is left to that process. Any
    earlier arming is dropped. Raises ``ValueError`` naming a point neither side has, or
    a count that is not a positive whole number."""
    global _action
    _left.clear()
    _action = None
    if not spec:
        return
    point, _, n = spec.partition(":")
    if not any(point in points for points in SIDES.values()):
        raise ValueError(f"unknown crash point {point!r} (JIFEN_CRASH_AT); known: {', '.join(SERVER_POINTS + KIOSK_POINTS)}")
    if not (n or "1").isdigit() or int(n or 1) < 1:
        raise ValueError(f"crash point count must be a whole number from 1: {spec!r} (JIFEN_CRASH_AT)")
    if point in SIDES[side]:
        _left[point] = int(n or 1)
        _action = action


def crash_point(name: str) -> None:
    """Run the armed action the n-th time ``name`` is reached; otherwise nothing."""
    if name in _left:
        _left[name] -= 1
        if _left[name] <= 0 and _action is not None:
            _action()
