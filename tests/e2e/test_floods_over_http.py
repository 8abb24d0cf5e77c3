"""Floods from a stranger, over real HTTP against a real `jifen-server serve`: the stranger
sends from 127.0.0.2, the real kiosk from 127.0.0.1 (both loopback, two client addresses).

Before the fix, unsigned pushes claiming a real kiosk's id were all kept in quarantine
(50 bodies of 4 MiB: 210 MB on disk), and unsigned requests under a kiosk's guessable id
spent that kiosk's rate allowance, so the real kiosk got 429 for as long as they lasted.
"""

import os
import sqlite3

import httpx

from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE, MAX_BODY_BYTES

STRANGER = "127.0.0.2"


def stranger() -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=STRANGER), timeout=30)


def stored_bytes(data) -> int:
    return sum(os.path.getsize(data / name) for name in ("server.db", "server.db-wal") if (data / name).exists())


def test_unsigned_4_mib_pushes_claiming_a_real_kiosk_do_not_fill_the_disk(server, make_kiosk):
    k = make_kiosk("k")
    before = stored_bytes(server.data)
    codes = []
    with stranger() as c:
        for _ in range(50):
            body = os.urandom(MAX_BODY_BYTES - 1024)
            resp = c.post(server.url + "/v1/push", content=body, headers={HEADER_KIOSK: k.kiosk_id, HEADER_SIGNATURE: "00" * 64})
            codes.append(resp.status_code)
    assert set(codes) <= {401, 429} and 429 in codes  # the address ran out of unverified requests
    grown = stored_bytes(server.data) - before
    assert grown < 2 * 1024 * 1024, grown  # was 210 MB
    with sqlite3.connect(server.data / "server.db") as db:
        assert db.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
        counted = db.execute("SELECT code, count, length(last_hash) FROM unstored_rejections WHERE kiosk = ?", (k.kiosk_id,)).fetchall()
    assert counted == [("bad_signature", codes.count(401), 64)]  # a count and a SHA-256, per kiosk
    assert k.sync().ok  # the real kiosk, from its own address, is untouched


def test_a_stranger_claiming_a_kiosk_id_cannot_throttle_the_real_kiosk(server, make_kiosk):
    k = make_kiosk("k")
    codes = []
    with stranger() as c:
        for i in range(400):  # more than the kiosk's whole burst (300), forged addresses and all
            headers = {HEADER_KIOSK: k.kiosk_id, HEADER_SIGNATURE: "00" * 64, "X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"}
            codes.append(c.post(server.url + "/v1/pull", content=b'{"v":1}', headers=headers).status_code)
    assert codes.count(401) <= 40 and codes[-1] == 429  # refused at its address, before any signature work
    for _ in range(3):
        result = k.sync()
        assert result.ok, result
