"""Repeated wrong passwords lock a username (and, at a higher count, a client address)
for a while: 429 rate_limited in the one error shape, even for the right password."""

from server.services.throttle import SignInThrottle
from tests.server.staff.conftest import PASSWORD


def attempt(client, username="ada", password="wrong password"):
    return client.post("/api/session", json={"username": username, "password": password})


def test_five_wrong_passwords_lock_the_username_for_a_while(client, clock):
    for _ in range(5):
        assert attempt(client).status_code == 401
    resp = attempt(client, password=PASSWORD)  # even the right password, while locked
    assert resp.status_code == 429
    err = resp.json()["error"]
    assert (err["code"], err["action"]) == ("rate_limited", "retry")
    assert 0 < err["detail"]["retry_after_ms"] <= 15 * 60_000
    assert attempt(client, "rex", PASSWORD).status_code == 200  # other accounts are unaffected
    clock.advance(15 * 60_000)
    assert attempt(client, password=PASSWORD).status_code == 200


def test_a_success_clears_the_count_and_old_failures_expire(client, clock):
    for _ in range(4):
        attempt(client)
    assert attempt(client, password=PASSWORD).status_code == 200
    for _ in range(4):
        attempt(client)
    clock.advance(15 * 60_000 + 1)  # outside the window
    assert attempt(client).status_code == 401
    assert attempt(client, password=PASSWORD).status_code == 200


def test_many_failures_from_one_address_lock_the_address():
    t = SignInThrottle(max_failures=5, max_failures_per_ip=8)
    for i in range(8):  # a different made-up username each time
        t.check(t.keys(f"guess{i}", "10.0.0.9"), 1000)
        t.failed(t.keys(f"guess{i}", "10.0.0.9"), 1000)
    try:
        t.check(t.keys("ada", "10.0.0.9"), 2000)
        raise AssertionError("address not locked")
    except Exception as exc:
        assert getattr(exc, "code", None) == "rate_limited"
    t.check(t.keys("ada", "10.0.0.10"), 2000)  # another address is fine
