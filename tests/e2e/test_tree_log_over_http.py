"""The Merkle log and receipts end to end over real HTTP against real server processes:
kiosks keep each checkpoint note only once proven consistent with the last they accepted,
and flag a rewritten log; a receipt verifies with the server stopped (``jifen-verify``),
an altered one is refused, and once synced its batch is proven included in the newest note."""

import base64
import dataclasses
import sqlite3
import subprocess

import httpx

from sync import checkpoint as cp
from sync import merkle, note
from sync import receipt as sync_receipt
from sync.signing import VerifyKey
from tests.e2e.conftest import BIN

A_RULE = "LJFL"  # 垃圾分类, +2, once a day


def resident(kiosk, n: int = 0) -> str:
    return kiosk.store._rows("SELECT card FROM residents ORDER BY card LIMIT 1 OFFSET ?", (n,))[0]["card"]


def operator(kiosk) -> str:
    return kiosk.store._rows("SELECT id FROM operators ORDER BY id LIMIT 1")[0]["id"]


def record_sync_checkpoint(server, kiosk, n: int):
    rec = kiosk.award(resident(kiosk, n), A_RULE, operator(kiosk), receipt=True)
    assert kiosk.sync().ok
    server.cli("checkpoint")
    assert kiosk.sync().ok
    return rec


def held_sizes(kiosk) -> list[int]:
    return [note.parse(r["note"])[0].size for r in kiosk.store._rows("SELECT note FROM tree_heads ORDER BY n")]


def test_kiosk_keeps_only_notes_proven_consistent(server, make_kiosk):
    kiosk = make_kiosk("k1")
    for i in range(3):
        record_sync_checkpoint(server, kiosk, i)
    sizes = held_sizes(kiosk)
    assert len(sizes) >= 2 and sizes == sorted(sizes) and kiosk.status()["checkpoint_alert"] is None
    # an attacker with the server key rewrites an early leaf and signs a new log over it
    with sqlite3.connect(server.data / "server.db") as db:
        db.execute("UPDATE checkpoint_log SET leaf = ? WHERE n = 1", ["ab" * 32])
        db.execute("DELETE FROM log_nodes")  # and has the Merkle nodes grown again over it
    record_sync_checkpoint(server, kiosk, 3)
    assert held_sizes(kiosk) == sizes  # the unproven note is not kept
    assert "not proven consistent" in kiosk.status()["checkpoint_alert"]


def verify(keys, text: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "jifen-verify"), "--keys", str(keys), text], capture_output=True, text=True, timeout=60)


def test_receipt_checks_offline_then_inclusion_online(server, make_kiosk, tmp_path):
    kiosk = make_kiosk("k1")
    rec = record_sync_checkpoint(server, kiosk, 0)
    keys = tmp_path / "keys.txt"
    server.cli("keys", "export", str(keys))
    server.stop()
    good = verify(keys, rec.link)
    assert good.returncode == 0, good.stderr
    assert rec.event.id in good.stdout
    r = sync_receipt.decode(rec.link)
    altered = sync_receipt.encode(sync_receipt.Receipt(**{**r.__dict__, "event_bytes": r.event_bytes.replace(b'"points":2', b'"points":9')}))
    assert altered != sync_receipt.payload_of(rec.link)
    bad = verify(keys, altered)
    assert bad.returncode != 0 and bad.stderr
    server.start()
    key = VerifyKey(httpx.get(server.url + "/v1/health").json()["server_key"])
    with sqlite3.connect(server.data / "server.db") as db:
        seq = db.execute("SELECT batch_seq FROM events WHERE id = ?", [rec.event.id]).fetchone()[0]
    got = httpx.get(server.url + "/v1/log/inclusion", params={"kiosk": r.kiosk, "seq": seq})
    assert got.status_code == 200, got.text
    proof = got.json()
    [latest] = kiosk.store._rows("SELECT note FROM tree_heads ORDER BY n DESC LIMIT 1")
    head = note.verify(latest["note"], cp.log_origin(key.hex), key)
    assert proof["size"] == head.size
    merkle.verify_inclusion(proof["index"], proof["size"], merkle.leaf_hash(bytes.fromhex(proof["leaf"])),
                            [base64.b64decode(p) for p in proof["proof"]], head.root)
    page = httpx.get(server.url + "/public/check", params={"r": rec.link})
    assert page.status_code == 200 and "包含证明已验证" in page.text and "已入账" in page.text
    assert httpx.get(server.url + "/public/check", params={"r": altered}).status_code == 400
