"""sync.calendar: programme days and the times staff write, in Asia/Shanghai."""

import pytest

from sync.calendar import day_bounds, local_dt, parse_local


@pytest.mark.parametrize(("typed", "local"), [
    ("2026-12-05", "2026-12-05 00:00"),
    ("２０２６-１２-０５ ", "2026-12-05 00:00"),
    ("2026-12-05 08:30", "2026-12-05 08:30"),
    ("2026-12-05T08:30:15", "2026-12-05 08:30"),
    ("2026-12-05T00:30Z", "2026-12-05 08:30"),
    ("2026-12-05T08:30+08:00", "2026-12-05 08:30"),
    ("2026-12-04T20:30-04:00", "2026-12-05 08:30"),
])
def test_times_as_staff_write_them(typed, local):
    assert local_dt(parse_local(typed)).strftime("%Y-%m-%d %H:%M") == local


def test_a_day_is_the_start_of_that_programme_day():
    assert parse_local("2026-12-05") == day_bounds("2026-12-05")[0]


@pytest.mark.parametrize("typed", ["tomorrow", "2026-13-01", "2026-12-32", "05/12/2026", "", "2026-12-05 25:00"])
def test_anything_else_says_what_was_expected(typed):
    with pytest.raises(ValueError, match="expected YYYY-MM-DD or YYYY-MM-DD HH:MM"):
        parse_local(typed)
