"""/metrics on a real server process: the Prometheus text a monitoring stack scrapes,
counting what kiosks did, and closed to strangers."""

import os

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import ServerProcess, free_port
from tests.e2e.test_sync_over_http import VOLUNTEER, residents_with_balance


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_the_fleets_requests(server, make_kiosk):
    kiosk = make_kiosk("k1")
    kiosk.award(residents_with_balance(kiosk, 0, 10_000, 1)[0], VOLUNTEER, "op1")
    assert kiosk.sync().ok
    httpx.post(server.url + "/v1/pull", content=b"{}")  # no headers: a refusal, counted by its code
    resp = httpx.get(server.url + "/metrics")  # from this machine: no token needed
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    got = samples(resp.text)
    assert got[("jifen_kiosk_requests_total", (("backend", "sqlite"), ("endpoint", "pull"), ("outcome", "ok")))] >= 2
    assert got[("jifen_kiosk_requests_total", (("backend", "sqlite"), ("endpoint", "push"), ("outcome", "applied")))] == 1
    assert got[("jifen_batches", (("backend", "sqlite"), ("status", "applied")))] >= 1
    assert got[("jifen_kiosk_requests_total", (("backend", "sqlite"), ("endpoint", "pull"), ("outcome", "missing_header")))] == 1
    assert got[("jifen_kiosks", (("backend", "sqlite"), ("status", "active")))] >= 1
    assert ("jifen_kiosks_silent", (("backend", "sqlite"),)) in got
    assert got[("jifen_kiosk_request_seconds_count", (("backend", "sqlite"), ("endpoint", "pull")))] >= 2
    # inline projection: the synced batch is in the ledger, nothing waits
    assert got[("jifen_projection_behind", (("backend", "sqlite"),))] == 0
    assert got[("jifen_projection_lag_seconds", (("backend", "sqlite"),))] == 0


def test_with_a_token_metrics_need_it(tmp_path, server_dir):
    srv = ServerProcess(server_dir, free_port()).start(env=os.environ | {"JIFEN_METRICS_TOKEN": "s3cret-token"})
    try:
        refused = httpx.get(srv.url + "/metrics")
        assert refused.status_code == 401 and "JIFEN_METRICS_TOKEN" in refused.text
        assert httpx.get(srv.url + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(srv.url + "/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and "jifen_reviews_open" in ok.text
    finally:
        srv.stop()
