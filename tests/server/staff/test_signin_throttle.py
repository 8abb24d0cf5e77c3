"""Repeated wrong passwords lock one (username, client address) pair, with a back-off, and
many from one address lock the address: 429 rate_limited in the one error shape, even for
the right password from there. The right password from another address still works, and
admins see the lockouts (API here; the CLI, on a real clock, in the e2e test). Over real HTTP from two loopback addresses:
tests/e2e/test_signin_lockout_over_http.py."""

from litestar.testing import TestClient

from server.app import create_app
from server.services import throttle
from server.services.staff import SYSTEM, sign_in, sign_in_lockouts
from server.errors import SignInLocked, Unauthorized
from tests.server.staff.conftest import PASSWORD

LOCK_MS = 15 * 60_000


def attempt(ctx, username="ada", password="wrong password", address="10.0.0.9"):
    try:
        sign_in(ctx, username, password, address)
        return 200
    except Unauthorized:
        return 401
    except SignInLocked as exc:
        return exc.detail["retry_after_ms"]


def test_five_wrong_passwords_lock_that_username_from_that_address_only(ctx, clock):
    assert [attempt(ctx) for _ in range(5)] == [401] * 5
    assert 0 < attempt(ctx, password=PASSWORD) <= LOCK_MS  # even the right password, from there
    assert attempt(ctx, password=PASSWORD, address="10.0.0.10") == 200  # the real admin, elsewhere
    assert attempt(ctx, "rex", PASSWORD) == 200  # other accounts are unaffected
    clock.advance(LOCK_MS)
    assert attempt(ctx, password=PASSWORD) == 200


def test_a_locked_pair_answers_429_over_the_api(client):
    for _ in range(5):
        assert client.post("/api/session", json={"username": "ada", "password": "nope nope"}).status_code == 401
    resp = client.post("/api/session", json={"username": "ada", "password": PASSWORD})
    err = resp.json()["error"]
    assert resp.status_code == 429 and (err["code"], err["action"]) == ("rate_limited", "retry")
    assert 0 < err["detail"]["retry_after_ms"] <= LOCK_MS


def test_each_lock_within_a_day_lasts_twice_as_long(ctx, clock):
    waits = []
    for _ in range(3):
        for _ in range(5):
            assert attempt(ctx) == 401
        waits.append(attempt(ctx))
        clock.advance(waits[-1])
    assert waits == [LOCK_MS, 2 * LOCK_MS, 4 * LOCK_MS]
    clock.advance(throttle.BACKOFF_MEMORY_MS)
    for _ in range(5):
        attempt(ctx)
    assert attempt(ctx) == LOCK_MS  # a day later, back to the first step


def test_a_success_clears_the_count_and_old_failures_expire(ctx, clock):
    for _ in range(4):
        attempt(ctx)
    assert attempt(ctx, password=PASSWORD) == 200
    for _ in range(4):
        attempt(ctx)
    clock.advance(LOCK_MS + 1)  # outside the window
    assert attempt(ctx) == 401
    assert attempt(ctx, password=PASSWORD) == 200


def test_many_failures_from_one_address_lock_the_address(ctx):
    for i in range(30):  # a different made-up username each time
        assert attempt(ctx, f"guess{i}") == 401
    assert attempt(ctx, "ada", PASSWORD) > 0  # the whole address is locked
    assert attempt(ctx, "ada", PASSWORD, "10.0.0.10") == 200  # another address is fine


def test_admins_see_the_lockouts_over_the_api(client, login, ctx):
    for _ in range(5):
        attempt(ctx, "rex")
    resp = client.get("/api/lockouts", headers=login("admin"))
    assert resp.status_code == 200
    [row] = resp.json()
    assert (row["username"], row["address"], row["level"]) == ("rex", "10.0.0.9", 1) and row["until"] > row["at"]
    assert client.get("/api/lockouts", headers=login("auditor")).status_code == 403


def test_a_restart_keeps_the_lockouts(settings, ctx):
    for _ in range(5):
        attempt(ctx)
    with TestClient(create_app(settings)) as other:  # a second process over the same data
        fresh = other.app.state.ctx
        assert attempt(fresh, password=PASSWORD) > 0
        assert [r["username"] for r in sign_in_lockouts(fresh, SYSTEM)] == ["ada"]
