"""The benchmark harness runs end to end at a tiny size, so it cannot rot unnoticed.
Nothing here looks at a time: benchmarks are not tests."""

import json

from bench.__main__ import main


def test_every_benchmark_runs_and_writes_its_figures(tmp_path, capsys):
    out = tmp_path / "latest.json"
    assert main(["--tiny", "--work", str(tmp_path / "work"), "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    names = {f["name"] for f in doc["figures"]}
    assert {"ingest_1", "naive_per_event", "ingest_vs_history", "first_sync", "week_offline", "noop_sync",
            "record_p99", "lookup_card", "lookup_name", "lookup_phone", "fleet", "week_offline_ack", "projection",
            "county_first_sync", "county_signed_lookup"} <= names
    ingest = next(f for f in doc["figures"] if f["name"] == "ingest_1")
    assert ingest["baseline"]["raw_executemany"]["median"] > 0 and ingest["extra"]["errors"] == 0
    fleet = next(f for f in doc["figures"] if f["name"] == "fleet")
    assert fleet["extra"]["errors"] == 0 and "projection_lag_s" in fleet["baseline"]
    assert ingest["baseline"]["confirmed"]["median"] > 0
    assert "figure" in capsys.readouterr().out


def test_the_noop_benchmark_runs_alone(tmp_path):
    out = tmp_path / "latest.json"
    assert main(["--tiny", "--only", "noop", "--work", str(tmp_path / "work"), "--out", str(out)]) == 0
    figures = json.loads(out.read_text())["figures"]
    assert [f["name"] for f in figures] == ["noop_sync", "noop_sync_in_process"]
    assert figures[1]["baseline"]["over_http"]["median"] > 0
