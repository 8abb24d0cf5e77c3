"""The demo's station: a kiosk enrolled with a key made at run time whose signed batches
went through push like any kiosk's, carrying letters and requests at the programme's
ratio (2,019 : 3,300), handled and rated as it publishes (96% of rated letters and 92% of
rated requests at 4 or 5 stars), and volunteer tasks claimed and done whose awards are the
tasks' points; audit and a rebuild agree, and a second run records nothing."""

import json
import sqlite3

import pytest

from server.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo") / "server"
    assert main(["demo-data", "--data", str(data), "--residents", "600", "--communities", "3"]) == 0
    return data


def rows(data, sql, args=()):
    conn = sqlite3.connect(data / "server.db")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_the_station_kiosk_signed_its_batches_and_they_were_ingested(demo):
    kiosks = rows(demo, "SELECT id, shop, label FROM kiosks")
    assert [(shop, label) for _, shop, label in kiosks] == [("ST01", "演示驿站终端")]
    kinds = dict(rows(demo, "SELECT kind, count(*) FROM events WHERE kiosk = ? GROUP BY kind", (kiosks[0][0],)))
    assert set(kinds) == {"voice", "voice_rating", "task_claim", "task_done"}
    assert rows(demo, "SELECT count(*) FROM ingest_log WHERE kiosk = ?", (kiosks[0][0],))[0][0] >= 3
    assert not list((demo).glob("*demo*key*"))  # the station's key is never written


def test_letters_requests_and_ratings_are_at_the_programmes_proportions(demo):
    counts = dict(rows(demo, "SELECT channel, count(*) FROM voice_items GROUP BY channel"))
    assert abs(counts["letter"] / (counts["letter"] + counts["request"]) - 2019 / 5319) < 0.02
    for channel, share in (("letter", 0.96), ("request", 0.92)):
        stars = [s for (s,) in rows(demo, "SELECT stars FROM voice_items WHERE channel = ? AND stars IS NOT NULL", (channel,))]
        assert len(stars) >= 20 and abs(sum(s >= 4 for s in stars) / len(stars) - share) < 0.03, (channel, stars)
    steps = {s for (s,) in rows(demo, "SELECT DISTINCT step FROM voice_steps")}
    assert steps == {"received", "replied", "done", "rated"}
    open_ = rows(demo, "SELECT count(*) FROM voice_items WHERE status != 'done'")[0][0]
    assert 0 < open_ < sum(counts.values()) / 4


def test_task_awards_are_the_tasks_points_and_trace_to_their_claims(demo):
    done = rows(demo, """SELECT c.claim, c.done_event, t.points, p.amount FROM task_claims c JOIN tasks t ON t.id = c.task
                         JOIN postings p ON p.event = c.done_event AND p.account = 'resident:' || c.resident""")
    assert done and all(points == amount > 0 for _, _, points, amount in done)
    bodies = [json.loads(b) for (b,) in rows(demo, "SELECT body FROM events WHERE kind = 'task_done'")]
    assert {b["claim"] for b in bodies} == {claim for claim, *_ in done}


def test_audit_and_a_rebuild_agree_and_a_second_run_records_nothing(demo, capsys):
    assert main(["audit", "--data", str(demo)]) == 0
    assert main(["reproject", "--check", "--data", str(demo)]) == 0
    capsys.readouterr()
    assert main(["demo-data", "--data", str(demo), "--residents", "600", "--communities", "3", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out).values()) == {0}
