"""Limits: the per-kiosk request rate (429 rate_limited with a retry delay, spent once a
signature verifies), the per-address allowance of requests that fail before that (checked
before any signature work), the per-kiosk quarantine allowance, alongside the size limits
the bad-input suite covers (body 4 MiB -> body_too_large, 1000 events -> batch_too_large).
Over real HTTP from two loopback addresses: tests/e2e/test_floods_over_http.py."""

import msgspec
import pytest

from kiosk.service import KioskService
from kiosk.settings import Settings as KioskSettings
from server import ratelimit
from server.ratelimit import RateLimiter
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from server.settings import Settings
from server.store import chain, ledger
from sync import codec
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from tests.conftest import SECOND, Clock, InProcessServer
from tests.faults.simnet import Network
from tests.server.conftest import CARD_A
from tests.server.helpers import error_code, table_count
from tests.server.kiosk_double import KioskDouble, verified


@pytest.fixture
def ticks() -> Clock:
    """The rate limiter's own clock (it reads seconds), apart from the server's wall clock."""
    return Clock(0)


@pytest.fixture
def api(server_dir, clock, ticks):
    settings = Settings(data_dir=server_dir, clock=clock, rate_limit_per_second=1, rate_limit_burst=3,
                        unverified_per_second=1, unverified_burst=3)
    server = InProcessServer(settings, limiter_clock=lambda: ticks() / SECOND).start()
    yield server.client
    server.stop()


def enrolled(api, seed: int) -> KioskDouble:
    k = KioskDouble(api, seed, Clock())
    assert k.enroll(enroll_code(api.app.state.ctx, SYSTEM, "S01")["code"]).status_code == 200
    return k


def test_a_kiosk_over_its_rate_gets_429_with_a_retry_delay(api, ticks):
    k, other = enrolled(api, 1), enrolled(api, 2)
    assert [k.pull().status_code for _ in range(3)] == [200, 200, 200]
    resp = k.pull()
    assert resp.status_code == 429
    reply = msgspec.json.decode(verified(resp, api.app.state.ctx.key.public_hex))
    assert reply["error"]["code"] == "rate_limited" and reply["error"]["action"] == "retry"
    assert reply["error"]["detail"]["retry_after_ms"] == 1000
    assert reply["request"] == codec.digest(resp.request.content)  # it answers this request
    assert other.pull().status_code == 200  # one kiosk's flood is its own
    ticks.advance(SECOND)
    assert k.pull().status_code == 200


def test_a_flood_of_bad_signatures_is_counted_and_stopped_at_its_address_not_stored(api, ticks):
    k = enrolled(api, 1)
    ctx = api.app.state.ctx
    codes = [k.push(b'{"x":1}', signature="00" * 64).status_code for _ in range(50)]
    assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}
    assert table_count(ctx, "quarantine") == 0
    assert table_count(ctx, "unstored_rejections", "kiosk = ? AND count = 3", [k.id]) == 1
    ticks.advance(SECOND)  # the address has one token back: the next bad one is answered, and counted
    assert k.push(b'{"x":2}', signature="00" * 64).status_code == 401


def test_failed_requests_claiming_a_kiosk_do_not_spend_its_allowance(server_dir, clock, ticks):
    """The kiosk's own allowance is spent only by requests its key signed (here the
    stranger shares the test client's address, so the address limit is off)."""
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock, rate_limit_per_second=1, rate_limit_burst=3,
                                      unverified_per_second=0), limiter_clock=lambda: ticks() / SECOND).start()
    try:
        k = enrolled(server.client, 1)
        for _ in range(20):
            assert k.push(b'{"x":1}', kiosk=k.id, signature="00" * 64).status_code == 401
            bad_pull = {HEADER_KIOSK: k.id, HEADER_SIGNATURE: "00" * 64}
            assert server.client.post("/v1/pull", content=b"{}", headers=bad_pull).status_code == 401
        assert [k.pull().status_code for _ in range(4)] == [200, 200, 200, 429]
    finally:
        server.stop()


def test_what_a_kiosk_gets_quarantined_is_capped(server_dir, clock):
    """A verified kiosk (or its thief) pushing refused bodies fills at most its allowance;
    beyond it only a count and the last hash are kept."""
    cap = 64 * 1024
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock, quarantine_bytes_per_kiosk=cap)).start()
    try:
        k = enrolled(server.client, 1)
        junk = [b"[" + bytes([65 + i]) * 16_000 for i in range(20)]  # signed by the kiosk, not batches
        assert {error_code(k.push(body), server.ctx) for body in junk} == {"malformed_request"}
        with server.ctx.store.read() as db:
            assert chain.quarantine_bytes(db, k.id) <= cap
            kept = len(chain.quarantine_rows(db, k.id))
            [counted] = chain.unstored_rows(db, k.id)
        assert kept == 3 and (counted["code"], counted["count"]) == ("malformed_request", 17)
        assert counted["last_hash"] == codec.digest(junk[-1])
    finally:
        server.stop()


def test_what_a_kiosk_gets_held_ahead_of_its_chain_is_capped(server_dir, clock):
    """Batches skipping ahead of a gap are held up to the kiosk's held allowance; past it the
    push is refused ``held_limit`` (retry: the kiosk sends the missing batch first), nothing
    applied, and once the gap is filled everything held applies."""
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock, held_bytes_per_kiosk=2_000)).start()
    try:
        k = enrolled(server.client, 1)
        card = CARD_A
        bodies = [k.batch(*(k.award(card, "ZYFW", 1) for _ in range(3))) for _ in range(8)]
        held = [k.push(body).status_code for body in bodies[1:]]
        assert held[0] == 202 and held[-1] == 429, held
        refused = held.index(429)
        assert error_code(k.push(bodies[refused + 1]), server.ctx) == "held_limit"
        with server.ctx.store.read() as db:
            assert chain.held_bytes(db, k.id) <= 2_000
            assert table_count(server.ctx, "events", f"kiosk = '{k.id}'") == 0
        assert k.push(bodies[0]).status_code == 200  # the gap filled: what was held applies behind it
        assert table_count(server.ctx, "events", f"kiosk = '{k.id}'") == 3 * (refused + 1)
        for body in bodies[refused + 1:]:
            assert k.push(body).status_code == 200
        assert table_count(server.ctx, "events", f"kiosk = '{k.id}'") == 3 * len(bodies)
    finally:
        server.stop()


def test_a_rate_limited_kiosk_keeps_its_records_and_syncs_later(server_dir, tmp_path, clock, ticks):
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock, rate_limit_per_second=0.001, rate_limit_burst=4),
                             limiter_clock=lambda: ticks() / SECOND).start()
    try:
        net = Network(server, __import__("random").Random(1))
        svc = KioskService(KioskSettings(data_dir=tmp_path / "k", lang="en", batch_events=1), clock=clock,
                           transport=net.transport("k"))
        svc.enroll("http://central.sim", enroll_code(server.ctx, SYSTEM, "S01")["code"])
        assert svc.sync().ok
        card = svc.store._one("SELECT card FROM residents ORDER BY card")["card"]
        ids = [svc.award(card, "ZYFW", "op1").id for _ in range(5)]
        result = svc.sync()
        assert (result.ok, result.problem, result.detail["code"]) == (False, "sync_retry", "rate_limited")
        assert svc.status()["pending_events"] > 0 and not svc.status()["stopped_reason"]
        ticks.advance(3600 * SECOND)
        assert svc.sync().ok
        assert svc.status()["pending_events"] == 0
        with server.ctx.store.read() as db:
            stored = {i for (kiosk, _), batch in ledger.event_ids_by_batch(db).items() if kiosk == svc.kiosk_id for i in batch}
            assert stored == set(ids)
        svc.close()
    finally:
        server.stop()


def test_the_limiter_forgets_idle_ids_so_made_up_ids_cannot_fill_memory(monkeypatch):
    monkeypatch.setattr(ratelimit, "MAX_TRACKED", 100)
    t = Clock(0)
    lim = RateLimiter(per_second=10, burst=2, clock=lambda: t() / SECOND)
    for i in range(1000):
        t.advance(SECOND)  # each made-up id is idle again a second later
        assert lim.take(f"K{i:06d}") == 0
    assert len(lim._buckets) <= 101
