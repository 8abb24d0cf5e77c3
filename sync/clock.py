"""The time an event is recorded at: one rule the kiosk applies before recording and the
server applies when accepting, so a kiosk with a wrong clock never records what the server
will refuse, and never wedges.

A kiosk clock can be far wrong: reset to 1970 by a flat battery, set years ahead by hand,
or far from the server time the kiosk last saw. Refusing to record would turn residents
away at the counter, so the kiosk records with its *best known time* instead — the latest
of the server time it last saw and its own last event time — and flags the kiosk (a
standing warning on screen and in ``status``; the server notes the skew from the clock the
pull request reports). The server refuses, as ``invalid_batch``, only event and batch times
no kiosk applying this rule can produce: before ``EARLIEST`` or more than ``AHEAD_LIMIT_MS``
ahead of its own clock. Pure: every clock reading is an argument.
"""

from dataclasses import dataclass

#: no event of the programme is older than this (2024-01-01 00:00 UTC): a clock before it
#: is wrong, not early
EARLIEST = 1_704_067_200_000
#: the earliest and latest instants the wire types allow (schema.types.Millis)
WIRE_EARLIEST = 946_684_800_000
LATEST = 7_258_118_400_000
#: how far a kiosk clock may run ahead of the server time it last saw (an offline kiosk's
#: clock goes on; three months of it is more than any lease) before it is taken as wrong
AHEAD_LIMIT_MS = 90 * 86_400_000
#: how far behind the server time it last saw a kiosk clock may be before it is taken as wrong
BEHIND_LIMIT_MS = 86_400_000


@dataclass(frozen=True)
class RecordTime:
    """When to record: ``at``, and why it is not the clock reading (None: it is)."""

    at: int
    wrong: str | None = None  # "before_start" | "behind" | "ahead"


def record_time(reading: int, server_seen: int | None, last_event_at: int | None) -> RecordTime:
    """The time a kiosk records an event at, given its clock ``reading``, the server time it
    last saw (None: never) and the time of its latest event (None: none yet)."""
    known = max(EARLIEST, server_seen or EARLIEST)
    # never having seen the server (enrolled, not yet synced: a round pulls first then)
    # leaves only the wire's own bounds
    ceiling = LATEST if server_seen is None else min(LATEST, known + AHEAD_LIMIT_MS)
    best = max(known, min(last_event_at or known, ceiling))
    if reading < EARLIEST:
        return RecordTime(best, "before_start")
    if server_seen is not None and reading < server_seen - BEHIND_LIMIT_MS:
        return RecordTime(best, "behind")
    if reading > ceiling:
        return RecordTime(best, "ahead")
    return RecordTime(reading)


def reported_clock(reading: int) -> int:
    """A clock reading as a wire ``Millis`` may carry it (a pull request reports the kiosk's
    clock so the server can notice it is wrong; 1970 is reported as the earliest instant)."""
    return min(LATEST, max(WIRE_EARLIEST, reading))


def refused_time(at: int, server_now: int) -> str | None:
    """Why the server refuses an event or batch time (None: it accepts it). An offline
    kiosk's events may be old, so only a time before ``EARLIEST`` or one further ahead of
    the server's clock than ``record_time`` ever allows is refused."""
    if at < EARLIEST:
        return f"time {at} is before the programme's earliest time {EARLIEST}"
    if at > server_now + AHEAD_LIMIT_MS:
        return f"time {at} is more than {AHEAD_LIMIT_MS // 86_400_000} days ahead of the server's clock {server_now}"
    return None
