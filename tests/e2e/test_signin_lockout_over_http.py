"""Locking out a staff account, over real HTTP against a real `jifen-server serve` (issue
11, Medium 5): five wrong passwords from anywhere used to lock ``admin`` for 15 minutes,
even for the right password from another address. Now the stranger (127.0.0.2) locks only
itself out of that account; the admin signs in from 127.0.0.1 and sees the lockout with
``jifen-server staff lockouts``."""

import httpx

from server.services import open_context
from server.services.staff import SYSTEM, add_staff
from server.settings import Settings

PASSWORD = "correct horse 1"


def test_wrong_passwords_from_one_address_do_not_lock_the_account_elsewhere(server):
    ctx = open_context(Settings(data_dir=server.data))
    try:
        add_staff(ctx, SYSTEM, "boss", "admin", PASSWORD)
    finally:
        ctx.close()
    stranger = httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
    with stranger, httpx.Client(base_url=server.url, timeout=30) as admin:
        codes = [stranger.post("/api/session", json={"username": "boss", "password": f"guess {i}"}).status_code for i in range(6)]
        assert codes == [401] * 5 + [429]
        assert stranger.post("/api/session", json={"username": "boss", "password": PASSWORD}).status_code == 429
        forged = {"X-Forwarded-For": "10.9.9.9"}  # no proxy is trusted: the header changes nothing
        assert stranger.post("/api/session", json={"username": "boss", "password": "x" * 9}, headers=forged).status_code == 429
        resp = admin.post("/api/session", json={"username": "boss", "password": PASSWORD})
        assert resp.status_code == 200, resp.text  # the right password from another address still works
        token = {"Authorization": f"Bearer {resp.json()['token']}"}
        [row] = admin.get("/api/lockouts", headers=token).json()
        assert (row["username"], row["address"], row["level"]) == ("boss", "127.0.0.2", 1)
    [listed] = server.json("staff", "lockouts")
    assert (listed["username"], listed["address"]) == ("boss", "127.0.0.2")
