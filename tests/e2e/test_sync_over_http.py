"""The foundation, end to end over real HTTP against a real `jifen-server serve` process:
offline recording on two kiosks, sync in either order, exactly-once effects, tamper and
theft cases, a kiosk killed mid-sync, a forged pull page, and `audit`."""

import http.server
import os
import signal
import sqlite3
import subprocess
import threading

import httpx
import pytest

from kiosk.keys import load_key
from schema.types import GENESIS
from schema.wire import Award
from sync import codec
from sync.batch import build_batch, event_id
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from tests.e2e.conftest import BIN

A_RULE = "LJFL"  # 垃圾分类, basic, +2, once a day
VOLUNTEER = "ZYFW"  # 志愿服务, encouraged


def server_db(server) -> sqlite3.Connection:
    return sqlite3.connect(server.data / "server.db")


def server_balance(server, card: str) -> int:
    return server.json("balance", card)["confirmed"]


def residents_with_balance(kiosk, low: int, high: int, n: int) -> list[str]:
    cards = [r["card"] for r in kiosk.store._rows("SELECT card FROM residents ORDER BY card")]
    found = [c for c in cards if low <= kiosk.balance(c).confirmed <= high]
    assert len(found) >= n, f"demo data has too few residents with {low}..{high} points"
    return found[:n]


def rule_points(server, code: str) -> int:
    return next(r["points"] for r in server.json("list", "rules") if r["code"] == code)


def push_raw(server, kiosk_id: str, body: bytes, signature: str) -> httpx.Response:
    return httpx.post(
        server.url + "/v1/push",
        content=body,
        headers={HEADER_KIOSK: kiosk_id, HEADER_SIGNATURE: signature, "content-type": "application/json"},
    )


def counts(server) -> tuple[int, int, int]:
    with server_db(server) as db:
        return (
            db.execute("SELECT count(*) FROM events").fetchone()[0],
            db.execute("SELECT count(*) FROM postings").fetchone()[0],
            db.execute("SELECT count(*) FROM batches").fetchone()[0],
        )


@pytest.mark.parametrize("order", ["AB", "BA"])
def test_two_offline_kiosks_sync_in_either_order(server, make_kiosk, order):
    server.cli("shop", "serves", "S02", "SQ01", "SQ02")  # S02 serves SQ01's residents too
    kiosks = {"A": make_kiosk("ka"), "B": make_kiosk("kb", shop="S02")}
    cards = residents_with_balance(kiosks["A"], 100, 10_000, 4)
    before = {c: server_balance(server, c) for c in cards}
    server.stop()

    vol = rule_points(server, VOLUNTEER)
    expected = dict(before)
    for name, k in kiosks.items():
        for card in cards:
            k.award(card, VOLUNTEER, "op1" if name == "A" else "op2")
            expected[card] += vol
        k.redeem(cards[0], [("SOAP", 1)], "op1" if name == "A" else "op2")
        expected[cards[0]] -= 30
        assert not k.sync().ok  # the server is down: recorded, not lost
        assert k.status()["pending_events"] == len(cards) + 1

    server.start()
    for name in order:
        result = kiosks[name].sync()
        assert result.ok, result
    for k in kiosks.values():
        assert k.sync().ok  # pull the other kiosk's effects too
    for card in cards:
        assert server_balance(server, card) == expected[card]
        for k in kiosks.values():
            b = k.balance(card)
            assert (b.confirmed, b.pending) == (expected[card], 0)
    with server_db(server) as db:
        rows = db.execute("SELECT event, sum(amount) FROM postings GROUP BY event HAVING sum(amount) != 0").fetchall()
        assert rows == []
        k_events = db.execute("SELECT count(*) FROM events WHERE kiosk IN ('K0001','K0002')").fetchone()[0]
        assert k_events == 2 * (len(cards) + 1)
    assert server.cli("audit").returncode == 0


def test_overdraft_across_two_offline_kiosks_is_applied_and_reviewed(server, make_kiosk):
    server.cli("shop", "serves", "S02", "SQ01", "SQ02")  # S02 serves SQ01's residents too
    a, b = make_kiosk("ka"), make_kiosk("kb", shop="S02")
    card = residents_with_balance(a, 70, 119, 1)[0]
    balance = a.balance(card).confirmed
    server.stop()
    # Each kiosk alone sees enough points; together they hand out more than the resident has.
    a.redeem(card, [("SOAP", 2)], "op1")
    b.redeem(card, [("SOAP", 2)], "op2")
    server.start()
    assert a.sync().ok and b.sync().ok
    assert server_balance(server, card) == balance - 120 < 0
    items = [i for i in server.json("review", "list", "--open") if i["kind"] == "overdraft"]
    assert [i["resident"] for i in items] == [card]


def test_replayed_batch_changes_nothing(server, make_kiosk):
    k = make_kiosk("ka")
    card = residents_with_balance(k, 0, 10_000, 1)[0]
    k.award(card, VOLUNTEER, "op1")
    assert k.sync().ok
    row = k.store._one("SELECT body, signature FROM outbox ORDER BY seq DESC LIMIT 1")
    before, balance = counts(server), server_balance(server, card)
    for _ in range(3):
        r = push_raw(server, k.kiosk_id, row["body"], row["signature"])
        assert r.status_code == 200 and codec.decode(r.content, dict)["status"] == "duplicate"
    assert counts(server) == before
    assert server_balance(server, card) == balance


def test_one_changed_byte_is_rejected_and_counted(server, make_kiosk):
    k = make_kiosk("ka")
    card = residents_with_balance(k, 0, 10_000, 1)[0]
    k.award(card, VOLUNTEER, "op1")
    key = load_key(k.settings.key_path)
    body = build_batch(k.kiosk_id, 1, GENESIS, k.clock(), [codec.decode(k.store._one("SELECT body FROM events")["body"], Award)])
    sig = key.sign("batch", body)
    tampered = body.replace(b'"points":10', b'"points":90')
    assert tampered != body
    before = counts(server)
    r = push_raw(server, k.kiosk_id, tampered, sig)
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_signature"
    assert counts(server) == before
    with server_db(server) as db:  # a body failing its signature is counted with its hash, not kept
        assert db.execute("SELECT count(*) FROM quarantine WHERE kiosk = ?", (k.kiosk_id,)).fetchone() == (0,)
        q = db.execute("SELECT code, count, last_hash FROM unstored_rejections WHERE kiosk = ?", (k.kiosk_id,)).fetchall()
    assert q == [("bad_signature", 1, codec.digest(tampered))]
    assert k.sync().ok  # the honest batch still goes through afterwards
    assert counts(server)[0] == before[0] + 1


def _signed_batches(k, n_events: int) -> list[tuple[bytes, str]]:
    """Record ``n_events`` awards and cut one batch per event, without sending them."""
    card = residents_with_balance(k, 0, 10_000, 1)[0]
    for _ in range(n_events):
        k.award(card, VOLUNTEER, "op1")
    from kiosk.syncing import Round  # the real batch builder, so bytes are what a kiosk sends

    Round(k.store, None, load_key(k.settings.key_path), k.clock, 1, 100).build_batches(1)
    return [(r["body"], r["signature"]) for r in k.store._rows("SELECT body, signature FROM outbox ORDER BY seq")]


def test_gap_is_held_then_filled(server, make_kiosk):
    k = make_kiosk("ka")
    (b1, s1), (b2, s2), (b3, s3) = _signed_batches(k, 3)
    before = counts(server)[0]
    r3 = push_raw(server, k.kiosk_id, b3, s3)
    assert r3.status_code == 202
    reply = codec.decode(r3.content, dict)
    assert (reply["status"], reply["next_seq"]) == ("held", 1)
    assert counts(server)[0] == before  # held, not applied
    assert push_raw(server, k.kiosk_id, b1, s1).status_code == 200
    assert counts(server)[0] == before + 1
    r2 = push_raw(server, k.kiosk_id, b2, s2)
    assert r2.status_code == 200
    assert counts(server)[0] == before + 3  # the held batch 3 applied as soon as 2 filled the gap
    assert codec.decode(push_raw(server, k.kiosk_id, b3, s3).content, dict)["status"] == "duplicate"
    assert server.cli("audit").returncode == 0


def test_fork_is_rejected_and_raises_a_tamper_alert(server, make_kiosk):
    k = make_kiosk("ka")
    (b1, s1), = _signed_batches(k, 1)
    assert push_raw(server, k.kiosk_id, b1, s1).status_code == 200
    key = load_key(k.settings.key_path)
    ev = codec.decode(k.store._one("SELECT body FROM events")["body"], Award)
    other = build_batch(k.kiosk_id, 1, GENESIS, k.clock() + 1, [ev])  # same seq, other bytes
    before = counts(server)
    r = push_raw(server, k.kiosk_id, other, key.sign("batch", other))
    assert r.status_code == 409 and r.json()["error"]["code"] == "fork"
    assert counts(server) == before
    assert "fork" in [i["kind"] for i in server.json("review", "list", "--open")]


def test_revoked_kiosk_batch_is_quarantined_and_kiosk_stops(server, make_kiosk):
    k = make_kiosk("ka")
    card = residents_with_balance(k, 0, 10_000, 1)[0]
    k.award(card, VOLUNTEER, "op1")
    server.cli("revoke", k.kiosk_id)
    before = counts(server)
    result = k.sync()
    assert not result.ok
    assert counts(server) == before
    with server_db(server) as db:
        assert db.execute("SELECT code FROM quarantine WHERE kiosk=?", (k.kiosk_id,)).fetchall() == [("kiosk_revoked",)]
    assert k.status()["revoked"]
    with pytest.raises(Exception):
        k.award(card, VOLUNTEER, "op1")


def _sync_killed_at(data: str, point: str) -> None:
    """Run `jifen-kiosk sync` in its own process and SIGKILL it at a named point
    (sync/crashpoint.py): the same kill as an unplugged kiosk, at an exact place."""
    env = {**os.environ, "JIFEN_CRASH_AT": point}
    proc = subprocess.run([str(BIN / "jifen-kiosk"), "sync", "--data", data], env=env, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"sync was not killed at {point}: {proc.returncode} {proc.stderr[-500:]}"


def test_kiosk_killed_mid_sync_loses_and_duplicates_nothing(server, make_kiosk, tmp_path):
    k = make_kiosk("ka")
    cards = residents_with_balance(k, 0, 100_000, 5)
    before = {c: server_balance(server, c) for c in cards}
    vol = rule_points(server, VOLUNTEER)
    n = 12_000  # 24 batches of 500
    for i in range(n):
        k.award(cards[i % 5], VOLUNTEER, "op1")
    data = str(k.settings.data_dir)
    k.close()

    def on_server() -> int:
        with server_db(server) as db:
            return db.execute("SELECT count(*) FROM events WHERE kiosk='K0001'").fetchone()[0]

    _sync_killed_at(data, "kiosk.batch.before_commit")  # batches signed, never committed
    assert on_server() == 0
    _sync_killed_at(data, "kiosk.push.after_reply:3")  # server applied 3, kiosk noted 2
    assert on_server() == 1500
    _sync_killed_at(data, "kiosk.push.after_reply:5")  # batch 3 resent (duplicate), then 4..7
    assert on_server() == 3500
    _sync_killed_at(data, "kiosk.pull.after_reply")  # everything pushed, killed while pulling
    assert on_server() == n
    done = subprocess.run([str(BIN / "jifen-kiosk"), "sync", "--data", data, "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    with server_db(server) as db:
        got = db.execute("SELECT count(*), count(DISTINCT kseq), min(kseq), max(kseq) FROM events WHERE kiosk='K0001'").fetchone()
        batches = db.execute("SELECT count(*) FROM batches WHERE kiosk='K0001'").fetchone()[0]
    assert got == (n, n, 1, n)
    assert batches == n // 500
    for c in cards:
        assert server_balance(server, c) == before[c] + vol * (n // 5)
    assert server.cli("audit").returncode == 0
    status = subprocess.run([str(BIN / "jifen-kiosk"), "status", "--data", data, "--json"], capture_output=True, text=True)
    assert '"pending_events": 0' in status.stdout


class _TamperProxy(http.server.ThreadingHTTPServer):
    """Forwards to the real server and flips one byte of every pull page on the way back."""


def _proxy(upstream: str) -> _TamperProxy:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            fwd = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "jifen-kiosk", "jifen-signature")}
            r = httpx.post(upstream + self.path, content=body, headers=fwd)
            content = r.content
            if self.path == "/v1/pull":
                content = content.replace(b'"points":', b'"points":9', 1)
            self.send_response(r.status_code)
            for h in ("content-type", "jifen-signature"):
                if h in r.headers:
                    self.send_header(h, r.headers[h])
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    proxy = _TamperProxy(("127.0.0.1", 0), Handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    return proxy


def test_tampered_pull_page_is_refused(server, make_kiosk):
    k = make_kiosk("ka")
    card = residents_with_balance(k, 0, 10_000, 1)[0]
    # Someone else changes this resident's balance centrally; the page that carries it is forged.
    other = make_kiosk("kb")
    other.award(card, VOLUNTEER, "op1")
    assert other.sync().ok
    proxy = _proxy(server.url)
    try:
        k.store.set_meta(server_url=f"http://127.0.0.1:{proxy.server_address[1]}")
        cursor, confirmed = k.status()["cursor"], k.balance(card).confirmed
        result = k.sync()
        assert not result.ok
        assert k.status()["cursor"] == cursor
        assert k.balance(card).confirmed == confirmed
    finally:
        proxy.shutdown()
    k.store.set_meta(server_url=server.url)
    assert k.sync().ok
    assert k.balance(card).confirmed == server_balance(server, card)


def test_audit_fails_after_a_stored_batch_is_edited(server, make_kiosk):
    k = make_kiosk("ka")
    card = residents_with_balance(k, 0, 10_000, 1)[0]
    k.award(card, VOLUNTEER, "op1")
    assert k.sync().ok
    assert server.cli("audit").returncode == 0
    with server_db(server) as db:
        body = db.execute("SELECT body FROM batches WHERE kiosk='K0001'").fetchone()[0]
        db.execute("UPDATE batches SET body=? WHERE kiosk='K0001'", (body.replace(b'"points":10', b'"points":99'),))
    bad = server.cli("audit", check=False)
    assert bad.returncode != 0
    assert "K0001" in bad.stdout + bad.stderr
