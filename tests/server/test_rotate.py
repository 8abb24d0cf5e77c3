"""Kiosk key rotation: a kiosk replaces its key (POST /v1/rotate), or staff force a new one
by re-enrolment; batches signed before the rotation still verify, then and in the audit."""

import pytest

from schema.wire import RotateRequest
from server.services.audit import audit
from server.services.rotate import force_rotate
from server.services.staff import SYSTEM
from server.store import chain
from sync import codec
from sync.keys import key_for_seq, rotate_proof_message
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from sync.signing import SigningKey
from tests.server.conftest import CARD_A
from tests.server.helpers import error_code, reply_of


def rotate_body(k, new: SigningKey, from_seq: int, proof_key: SigningKey | None = None) -> bytes:
    proof = (proof_key or new).sign("rotate", rotate_proof_message(k.id, from_seq, new.public_hex))
    return codec.encode(RotateRequest(v=1, kiosk=k.id, from_seq=from_seq, public_key=new.public_hex, proof=proof))


def send_rotate(k, body: bytes, signer: SigningKey | None = None):
    sig = (signer or k.key).sign("rotate", body)
    return k.client.post("/v1/rotate", content=body, headers={HEADER_KIOSK: k.id, HEADER_SIGNATURE: sig})


def test_key_for_seq_picks_the_latest_key_starting_at_or_before_the_seq():
    history = [(1, "a"), (5, "b"), (5, "c"), (9, "d")]
    assert [key_for_seq(history, s) for s in (1, 4, 5, 8, 9, 100)] == ["a", "a", "c", "c", "d", "d"]
    assert key_for_seq([(3, "x")], 2) is None


def test_rotation_keeps_old_unpushed_batches_valid_and_audit_passes(kiosk, ctx):
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    old_unpushed = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))  # seq 2, signed with the old key, not sent yet
    old_sig = kiosk.key.sign("batch", old_unpushed)
    new = SigningKey(bytes([42]) * 32)
    body = rotate_body(kiosk, new, 3)
    resp = send_rotate(kiosk, body)
    assert resp.status_code == 200, resp.text
    assert reply_of(resp, ctx) | {"rotated_at": 0} == {"v": 1, "kiosk": kiosk.id, "public_key": new.public_hex, "from_seq": 3, "rotated_at": 0}
    assert send_rotate(kiosk, body).content == resp.content  # a repeat gets the same reply
    assert kiosk.push(old_unpushed, old_sig).status_code == 200  # seq 2 < from_seq: old key still good
    old_key, kiosk.key = kiosk.key, new
    third = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    assert error_code(kiosk.push(third, old_key.sign("batch", third)), ctx) == "bad_signature"  # old key refused from seq 3
    assert kiosk.push(third).status_code == 200
    assert kiosk.pull().status_code == 200  # pulls are signed with the new key
    report = audit(ctx)
    assert report.ok, report.failures


def test_rotation_refused_when_signed_by_another_key_or_without_proof(kiosk, ctx):
    new = SigningKey(bytes([42]) * 32)
    assert error_code(send_rotate(kiosk, rotate_body(kiosk, new, 1), signer=new), ctx) == "bad_signature"
    assert error_code(send_rotate(kiosk, rotate_body(kiosk, new, 1, proof_key=kiosk.key)), ctx) == "bad_signature"
    with ctx.store.read() as db:  # the one signed by the kiosk's key is kept for staff, the other counted
        rows = chain.quarantine_rows(db, kiosk.id)
        unstored = chain.unstored_rows(db, kiosk.id)
    assert [r["code"] for r in rows] == ["bad_signature"]
    assert [(u["code"], u["count"]) for u in unstored] == [("bad_signature", 1)]


def test_rotation_refused_behind_batches_the_server_holds(kiosk, ctx):
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    kiosk.batch(kiosk.award(CARD_A, "ZYFW", 1))
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 1)))  # seq 3 held
    resp = send_rotate(kiosk, rotate_body(kiosk, SigningKey(bytes([42]) * 32), 3))
    assert error_code(resp, ctx) == "rotation_refused"
    assert reply_of(resp, ctx)["error"]["detail"]["next_seq"] == 4


def test_rotation_to_a_key_already_known_is_refused(enrolled, ctx):
    a, b = enrolled(1), enrolled(2)
    assert error_code(send_rotate(a, rotate_body(a, b.key, 1)), ctx) == "rotation_refused"


def test_audit_fails_when_a_key_history_row_is_edited(kiosk, ctx, settings):
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    new = SigningKey(bytes([42]) * 32)
    send_rotate(kiosk, rotate_body(kiosk, new, 2))
    import sqlite3
    conn = sqlite3.connect(settings.db_path)
    with conn:  # pretend the new key signed everything
        conn.execute("UPDATE kiosk_keys SET from_seq = 1 WHERE public_key = ?", [new.public_hex])
    conn.close()
    assert ("signature", f"{kiosk.id}/1") in {(f["check"], f["subject"]) for f in audit(ctx).failures}


def test_forced_rotation_retires_the_old_key_and_reenrolment_binds_a_new_one(kiosk, ctx):
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    out = force_rotate(ctx, SYSTEM, kiosk.id)
    assert out["from_seq"] == 2
    second = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    assert error_code(kiosk.push(second), ctx) == "key_retired"  # a thief with the old key gets nothing in
    assert error_code(kiosk.pull(), ctx) == "key_retired"
    old_id = kiosk.id
    kiosk.key = SigningKey(bytes([43]) * 32)
    resp = kiosk.enroll(out["code"])
    assert resp.status_code == 200, resp.text
    assert (kiosk.id, reply_of(resp, ctx)["key_from_seq"]) == (old_id, 2)
    assert kiosk.push(second, kiosk.key.sign("batch", second)).status_code == 200
    assert kiosk.pull().status_code == 200
    report = audit(ctx)
    assert report.ok, report.failures
    assert kiosk.enroll(out["code"]).status_code == 403  # the code works once


def test_forced_rotation_cli(kiosk, settings, capsys):
    from server.cli import main

    ctx_settings = settings
    assert main(["kiosk", "rotate", kiosk.id, "--data", str(ctx_settings.data_dir), "--json"]) == 0
    assert main(["kiosk", "keys", kiosk.id, "--data", str(ctx_settings.data_dir)]) == 0
    assert "current" in capsys.readouterr().out
