"""Crash points: armed only by an entry point, for its own side, the n-th time reached;
and the list of points is the list the code calls."""

import re
from pathlib import Path

import pytest

from sync import crashpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hits():
    out: list[str] = []
    yield out
    crashpoint.arm(None, "server", lambda: None)  # leave nothing armed for the next test


def test_unarmed_points_do_nothing(hits):
    crashpoint.arm(None, "server", lambda: hits.append("x"))
    for point in crashpoint.SERVER_POINTS:
        crashpoint.crash_point(point)
    assert hits == []


def test_the_action_runs_on_the_nth_time_the_point_is_reached(hits):
    crashpoint.arm("server.push.after_commit:3", "server", lambda: hits.append("dead"))
    for _ in range(2):
        crashpoint.crash_point("server.push.after_commit")
        crashpoint.crash_point("server.push.verified")
    assert hits == []
    crashpoint.crash_point("server.push.after_commit")
    assert hits == ["dead"]


def test_a_point_of_the_other_side_is_left_to_that_process(hits):
    crashpoint.arm("kiosk.record.before_commit", "server", lambda: hits.append("dead"))
    crashpoint.crash_point("kiosk.record.before_commit")
    assert hits == []


def test_arming_again_drops_the_earlier_point(hits):
    crashpoint.arm("kiosk.pull.after_reply", "kiosk", lambda: hits.append("first"))
    crashpoint.arm(None, "kiosk", lambda: hits.append("second"))
    crashpoint.crash_point("kiosk.pull.after_reply")
    assert hits == []


@pytest.mark.parametrize("spec", ["server.push.verifed", "server.push.verified:0", "server.push.verified:x", "kiosk:1"])
def test_a_misspelt_point_or_count_is_refused_by_name(spec):
    with pytest.raises(ValueError, match="crash point"):
        crashpoint.arm(spec, "server", lambda: None)


def test_the_listed_points_are_exactly_the_ones_the_code_reaches():
    called = {"server": set(), "kiosk": set()}
    for side in called:
        for path in (ROOT / side).rglob("*.py"):
            called[side] |= set(re.findall(r'crash_point\("([^"]+)"\)', path.read_text(encoding="utf-8")))
    assert called == {"server": set(crashpoint.SERVER_POINTS), "kiosk": set(crashpoint.KIOSK_POINTS)}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"`{p}`" in readme for p in crashpoint.SERVER_POINTS + crashpoint.KIOSK_POINTS)
