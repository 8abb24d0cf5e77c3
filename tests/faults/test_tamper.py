"""Suite 4, tamper and theft: each attack is refused or flagged as docs/PROTOCOL.md and
docs/SECURITY.md say — an edited kiosk row, a batch replayed under another kiosk's id, a
copied kiosk (fork), an enrolment code used twice, a revoked kiosk, forged and replayed
pull responses, a server-side edit caught by audit and checkpoints (also by a kiosk's copy
of a checkpoint), and a staff token used after sign-out.

In-process (the root conftest's ``app_server``, ``wire`` and ``inprocess_kiosk``): the real
app over real files behind TestClient, real KioskServices talking to it through the httpx
transport, whose responses an attacker in the middle may rewrite. Every attack runs with
the server on SQLite and on PostgreSQL (``backends``): the insider's edit is made with the
database's own client either way.
"""

import shutil
import sqlite3
from collections.abc import Callable

import httpx
import msgspec
import pytest

from kiosk.errors import KioskRevoked
from kiosk.service import KioskService
from kiosk.settings import Settings as KioskSettings
from schema.wire import CheckpointRec
from server.services.audit import audit
from server.services.checkpoint import check_held, make_checkpoint
from server.services.enroll import enroll_code
from server.services.manage import revoke_kiosk
from server.services.staff import SYSTEM, add_staff
from server.store import chain, ledger
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from sync.signing import SigningKey
from tests.conftest import InProcessServer
from tests.faults.backends import BACKENDS

VOLUNTEER = "ZYFW"

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


# this suite's short names for the root conftest's in-process server and kiosk factory
@pytest.fixture
def server(app_server) -> InProcessServer:
    return app_server


@pytest.fixture
def kiosk(inprocess_kiosk):
    return inprocess_kiosk


def first_card(k: KioskService) -> str:
    return k.store._one("SELECT card FROM residents ORDER BY card")["card"]


def server_count(server, table: str, where: str = "1 = 1", params=()) -> int:
    with server.ctx.store.read() as db:
        return db.sql.execute(f"SELECT count(*) FROM {table} WHERE {where}", list(params)).fetchone()[0]


def test_a_row_edited_in_the_kiosk_database_is_never_signed(server, kiosk):
    k = kiosk("k")
    eid = k.award(first_card(k), VOLUNTEER, "op1").id
    with sqlite3.connect(k.settings.db_path) as db:  # 10 points become 90, on disk
        body = db.execute("SELECT body FROM events WHERE id = ?", (eid,)).fetchone()[0]
        db.execute("UPDATE events SET body = ? WHERE id = ?", (body.replace(b'"points":10', b'"points":90'), eid))
    result = k.sync()
    assert (result.ok, result.problem) == (False, "chain_broken")
    assert server_count(server, "events", "kiosk = ?", [k.kiosk_id]) == 0
    assert k.store._one("SELECT count(*) AS n FROM outbox")["n"] == 0


def test_a_signed_batch_edited_in_the_outbox_is_refused_and_rebuilt_from_the_events(server, kiosk):
    k = kiosk("k")
    k.award(first_card(k), VOLUNTEER, "op1")
    server.stop()
    assert not k.sync().ok  # the batch is built and signed, then the server is gone
    server.start()
    with sqlite3.connect(k.settings.db_path) as db:
        body = db.execute("SELECT body FROM outbox").fetchone()[0]
        db.execute("UPDATE outbox SET body = ?", (body.replace(b'"points":10', b'"points":90'),))
    assert k.sync().ok  # bad_signature -> re-sign from the (intact) events
    with server.ctx.store.read() as db:  # counted, with its hash; a body failing its signature is not kept
        assert chain.quarantine_rows(db, k.kiosk_id) == []
        assert [(u["code"], u["count"]) for u in chain.unstored_rows(db, k.kiosk_id)] == [("bad_signature", 1)]
        ids = [i for (kiosk, _), batch in ledger.event_ids_by_batch(db).items() if kiosk == k.kiosk_id for i in batch]
        bodies = [bytes(r["body"]) for r in ledger.events_by_id(db, ids)]
    assert len(bodies) == 1 and b'"points":10' in bodies[0]


def test_a_batch_replayed_under_another_kiosk_id_is_refused(server, kiosk, wire):
    a, b = kiosk("a"), kiosk("b")
    a.award(first_card(a), VOLUNTEER, "op1")
    assert a.sync().ok
    row = a.store._one("SELECT body, signature FROM outbox")
    before = server_count(server, "events")
    resp = server.deliver("POST", "/v1/push", bytes(row["body"]), {HEADER_KIOSK: b.kiosk_id, HEADER_SIGNATURE: row["signature"]})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "bad_signature"
    # and re-signed by b (a stolen kiosk passing off a's events): the ids name another kiosk
    resp = server.deliver("POST", "/v1/push", bytes(row["body"]), {HEADER_KIOSK: b.kiosk_id, HEADER_SIGNATURE: SigningKey(bytes(32)).sign("batch", bytes(row["body"]))})
    assert resp.status_code == 401
    assert server_count(server, "events") == before
    assert server_count(server, "quarantine", "kiosk = ?", [b.kiosk_id]) == 0  # neither verified: counted, not kept
    assert server_count(server, "unstored_rejections", "kiosk = ? AND code = 'bad_signature' AND count = 2", [b.kiosk_id]) == 1


def test_a_copied_kiosk_is_detected_as_a_fork(server, kiosk, tmp_path):
    original = kiosk("orig")
    original.close()
    shutil.copytree(tmp_path / "orig", tmp_path / "copy")  # the disk, key and all
    orig, copy = kiosk("orig2", data=tmp_path / "orig"), kiosk("copy2", data=tmp_path / "copy")
    card = first_card(orig)
    orig.award(card, VOLUNTEER, "op1")
    copy.award(card, "LLHZ", "op1")  # same kseq, same batch seq, other bytes
    assert orig.sync().ok
    result = copy.sync()
    assert not result.ok and result.problem == "sync_stopped" and result.detail["code"] == "fork"
    with server.ctx.store.read() as db:
        forks = [r for r in ledger.list_reviews(db) if r["kind"] == "fork"]
    assert [r["kiosk"] for r in forks] == [orig.kiosk_id]
    assert server_count(server, "quarantine", "kiosk = ? AND code = 'fork'", [orig.kiosk_id]) == 1
    assert server_count(server, "events", "kiosk = ?", [orig.kiosk_id]) == 1


def test_an_enrolment_code_works_once(server, kiosk, tmp_path, wire, clock):
    code = enroll_code(server.ctx, SYSTEM, "S01")["code"]
    first = KioskService(KioskSettings(data_dir=tmp_path / "one", lang="en"), clock=clock, transport=wire)
    second = KioskService(KioskSettings(data_dir=tmp_path / "two", lang="en"), clock=clock, transport=wire)
    try:
        first.enroll("http://central.test", code)
        with pytest.raises(Exception) as exc:
            second.enroll("http://central.test", code)
        assert getattr(exc.value, "code", None) == "bad_enroll_code"
        assert second.kiosk_id is None
        assert server_count(server, "kiosks") == 1
    finally:
        first.close()
        second.close()


def test_a_revoked_kiosk_is_quarantined_told_and_stops_recording(server, kiosk):
    k = kiosk("k")
    card = first_card(k)
    k.award(card, VOLUNTEER, "op1")
    revoke_kiosk(server.ctx, SYSTEM, k.kiosk_id)
    assert not k.sync().ok
    assert server_count(server, "events", "kiosk = ?", [k.kiosk_id]) == 0
    assert server_count(server, "quarantine", "kiosk = ? AND code = 'kiosk_revoked'", [k.kiosk_id]) == 1
    assert k.status()["revoked"]
    with pytest.raises(KioskRevoked):
        k.award(card, VOLUNTEER, "op1")


def _resign(attacker: SigningKey) -> Callable:
    def rewrite(request, resp):
        if request.url.path != "/v1/pull":
            return resp
        body = resp.content.replace(b'"points":', b'"points":9', 1)
        return httpx.Response(resp.status_code, headers={HEADER_SIGNATURE: attacker.sign("response", body)}, content=body)
    return rewrite


@pytest.mark.parametrize("attack", ["flipped byte", "signed by another key", "old page replayed", "unsigned"])
def test_a_forged_or_replayed_pull_page_is_refused(server, kiosk, wire, attack):
    k, other = kiosk("k"), kiosk("other")
    card = first_card(k)
    other.award(card, VOLUNTEER, "op1")
    assert other.sync().ok  # a real change waits in the feed for k
    old = next(r for q, r in wire.seen if q.url.path == "/v1/pull")
    if attack == "flipped byte":
        wire.rewrite = lambda q, r: r if q.url.path != "/v1/pull" else httpx.Response(r.status_code, headers=r.headers, content=r.content.replace(b'"points":', b'"points":9', 1))
    elif attack == "signed by another key":
        wire.rewrite = _resign(SigningKey(bytes([7]) * 32))
    elif attack == "old page replayed":
        wire.rewrite = lambda q, r: r if q.url.path != "/v1/pull" else httpx.Response(old.status_code, headers=old.headers, content=old.content)
    else:
        wire.rewrite = lambda q, r: r if q.url.path != "/v1/pull" else httpx.Response(200, content=r.content)
    cursor, confirmed = k.status()["cursor"], k.balance(card).confirmed
    result = k.sync()
    assert (result.ok, result.problem) == (False, "offline")
    assert (k.status()["cursor"], k.balance(card).confirmed) == (cursor, confirmed)
    wire.rewrite = None
    assert k.sync().ok and k.balance(card).confirmed == confirmed + 10


def test_a_signed_error_replayed_against_another_request_is_ignored(server, kiosk, wire):
    k = kiosk("k")
    bad = server.deliver("POST", "/v1/push", b"{}", {HEADER_KIOSK: k.kiosk_id, HEADER_SIGNATURE: "00" * 64})
    assert bad.status_code == 401  # a genuine, signed refusal of some other request
    k.award(first_card(k), VOLUNTEER, "op1")
    wire.rewrite = lambda q, r: r if q.url.path != "/v1/push" else httpx.Response(bad.status_code, headers=bad.headers, content=bad.content)
    result = k.sync()
    assert (result.ok, result.problem) == (False, "offline")  # not "resign": the error answers another body
    assert k.store._one("SELECT count(*) AS n FROM outbox")["n"] == 1  # nothing discarded
    wire.rewrite = None
    assert k.sync().ok


def _edit_a_posting_and_hide_it(server_db) -> None:
    """An insider with the database (the file, or a PostgreSQL login) moves 500 points to a
    resident and fixes up the balance cache so the ledger still adds up."""
    with server_db.connect() as db:
        pid, account, event = db.execute("SELECT id, account, event FROM postings WHERE account LIKE 'resident:%' ORDER BY id DESC LIMIT 1").fetchone()
        other = db.execute("SELECT id, account FROM postings WHERE event = ? AND id != ?", (event, pid)).fetchone()
        db.execute("UPDATE postings SET amount = amount + 500 WHERE id = ?", (pid,))
        db.execute("UPDATE postings SET amount = amount - 500 WHERE id = ?", (other[0],))
        db.execute("UPDATE balances SET points = points + 500 WHERE account = ?", (account,))
        db.execute("UPDATE balances SET points = points - 500 WHERE account = ?", (other[1],))
        db.commit()


def test_a_server_side_edit_is_caught_by_audit_and_checkpoints(server, kiosk, server_db):
    k = kiosk("k")
    k.award(first_card(k), VOLUNTEER, "op1")
    assert k.sync().ok
    make_checkpoint(server.ctx)
    assert k.sync().ok  # the kiosk keeps a copy of the signed checkpoint
    held = k.store.checkpoints()
    assert held and audit(server.ctx).ok
    _edit_a_posting_and_hide_it(server_db)
    report = audit(server.ctx)
    assert not report.ok
    assert "checkpoint" in {f["check"] for f in report.failures}
    rec = msgspec.convert({f: held[-1][f] for f in ("v", "n", "size", "head", "at", "signature") if f in held[-1]} | {"v": 1}, CheckpointRec)
    assert check_held(server.ctx, rec)  # the kiosk's copy convicts the server's data too


def test_a_stolen_checkpoint_log_rewrite_is_caught_by_the_kiosks_copy(server, kiosk, server_db):
    """Rewriting the server's own checkpoint log after the edit does not help: the copy a
    kiosk pulled still names the old head, and only the server key could sign a new one."""
    k = kiosk("k")
    k.award(first_card(k), VOLUNTEER, "op1")
    assert k.sync().ok
    make_checkpoint(server.ctx)
    assert k.sync().ok
    held = k.store.checkpoints()[-1]
    _edit_a_posting_and_hide_it(server_db)
    rec = msgspec.convert({f: held[f] for f in ("n", "size", "head", "at", "signature")} | {"v": 1}, CheckpointRec)
    assert check_held(server.ctx, rec)


def test_a_staff_token_is_dead_after_sign_out(server):
    add_staff(server.ctx, SYSTEM, "zhangli", "admin", password="correct horse battery staple")
    api = server.client
    token = api.post("/api/session", json={"username": "zhangli", "password": "correct horse battery staple"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/session", headers=auth).status_code == 200
    assert api.delete("/api/session", headers=auth).status_code == 200
    again = api.get("/api/session", headers=auth)
    assert again.status_code == 401
    assert api.get("/api/staff", headers=auth).status_code == 401
    assert api.delete("/api/session", headers=auth).status_code == 401
