"""sync.clock: the one rule for event times, kiosk side and server side agree."""

from hypothesis import given
from hypothesis import strategies as st

from sync.clock import AHEAD_LIMIT_MS, BEHIND_LIMIT_MS, EARLIEST, LATEST, WIRE_EARLIEST, record_time, refused_time, reported_clock

SEEN = 1_764_039_725_000  # 2025-11-25
DAY = 86_400_000


def test_a_right_clock_records_its_reading():
    assert record_time(SEEN + 5 * DAY, SEEN, SEEN).wrong is None
    assert record_time(SEEN - 3_600_000, SEEN, None).at == SEEN - 3_600_000


def test_1970_records_at_the_best_known_time():
    r = record_time(86_400_000, SEEN, SEEN + 60_000)
    assert r.wrong == "before_start" and r.at == SEEN + 60_000


def test_years_ahead_and_far_behind_the_server_time_seen_are_wrong():
    assert record_time(SEEN + 10 * 365 * DAY, SEEN, None).wrong == "ahead"
    assert record_time(SEEN + AHEAD_LIMIT_MS + 1, SEEN, None).at == SEEN
    assert record_time(SEEN - BEHIND_LIMIT_MS - 1, SEEN, None).wrong == "behind"


def test_an_event_time_from_a_past_wrong_clock_does_not_become_the_best_time():
    assert record_time(0, SEEN, SEEN + 9 * 365 * DAY).at == SEEN + AHEAD_LIMIT_MS


def test_the_pull_clock_report_fits_the_wire():
    assert reported_clock(0) == WIRE_EARLIEST and reported_clock(10**15) == LATEST


@given(reading=st.integers(-10**13, 10**13), seen=st.none() | st.integers(EARLIEST, LATEST - AHEAD_LIMIT_MS),
       last=st.none() | st.integers(0, 10**13), later=st.integers(0, 10 * 365 * DAY))
def test_the_server_never_refuses_what_a_kiosk_records(reading, seen, last, later):
    """Whatever the kiosk's clock reads, the time it records is accepted by a server whose
    clock is at or after the server time the kiosk last saw."""
    at = record_time(reading, seen, last).at
    if seen is not None:
        assert refused_time(at, seen + later) is None
    assert EARLIEST <= at <= LATEST
