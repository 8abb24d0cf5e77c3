"""Sync: batches built once and resent byte for byte, pages applied whole or not at all,
and every error action of sync.protocol.ERRORS carried out."""

import httpx
import pytest

from kiosk import errors as E
from kiosk.keys import load_key
from kiosk.syncing import Round
from schema.types import GENESIS
from schema.wire import Batch
from sync import codec
from tests.conftest import MINUTE
from tests.kiosk.conftest import KIOSK_SEED
from tests.kiosk.fakeserver import CARD, CODE


def build(svc) -> None:
    """Cut and store batches the way a sync round starts, without sending them."""
    Round(svc.store, None, load_key(svc.settings.key_path), svc.clock, 500, 100).build_batches(500)


def batches(server) -> list[Batch]:
    return [codec.decode(b, Batch) for b in server.pushes]


def test_push_then_pull_updates_confirmed_balance(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    kiosk.redeem(CARD, [("TOWEL", 1)], "op1")
    result = kiosk.sync()
    assert result.ok and result.pushed == 1
    assert server.balances[CARD] == 105 and server.stock["TOWEL"] == 999
    st = kiosk.status()
    assert st["pending_events"] == 0 and st["last_push_at"] and st["last_pull_at"] and st["reachable"]
    assert kiosk.balance(CARD).confirmed == 105 and kiosk.balance(CARD).pending == 0
    assert kiosk.stock_available()["TOWEL"] == 999


def test_lost_reply_resends_identical_bytes_and_counts_once(kiosk, server, clock):
    kiosk.award(CARD, "V01", "op1")
    server.lose_replies = 1
    result = kiosk.sync()
    assert not result.ok and result.problem == "offline"
    assert server.balances[CARD] == 110  # the server did apply it
    clock.advance(MINUTE)  # a rebuilt batch would carry a new ``created``; a resend does not
    assert kiosk.sync().ok
    assert len(server.pushes) == 2 and server.pushes[0] == server.pushes[1]
    assert kiosk.store.unacked_batches() == []
    assert kiosk.store.batches_from(1)[0]["ack_status"] == "duplicate"
    assert server.balances[CARD] == 110 and kiosk.balance(CARD).available == 110


def test_crash_after_batching_resends_stored_batch(kiosk, server, open_service):
    kiosk.award(CARD, "V01", "op1")
    # build and store the batch, then "die" before sending it
    build(kiosk)
    stored = kiosk.store.batches_from(1)[0]
    kiosk.close()
    again = open_service()
    assert again.sync().ok
    assert server.pushes == [bytes(stored["body"])]
    assert server.balances[CARD] == 110


def test_events_cut_into_chained_batches(open_service, server):
    svc = open_service(batch_events=3)
    svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
    assert svc.sync().ok
    for _ in range(7):
        svc.award(CARD, "R01", "op1")
    assert svc.sync().ok
    sent = batches(server)
    assert [len(b.events) for b in sent] == [3, 3, 1]
    assert sent[0].prev == GENESIS
    assert sent[1].prev == codec.digest(server.pushes[0])
    assert server.balances[CARD] == 114


def test_pull_pages_with_fresh_nonces(open_service, server):
    svc = open_service(pull_limit=4)
    svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
    result = svc.sync()
    assert result.ok and result.pulled == 16  # 16 rows in scope: 4 pages of 4
    assert len(server.nonces) == 4 and len(set(server.nonces)) == 4
    assert svc.status()["cursor"] == 16  # the last row (another shop's stock) is not ours
    assert svc.store.stock_qty("OIL") == 10


def test_interrupted_pull_resumes_from_applied_page(open_service, server):
    svc = open_service(pull_limit=4)
    svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
    calls = {"n": 0}
    handle = server.handle

    def flaky(request):
        if request.url.path == "/v1/pull":
            calls["n"] += 1
            if calls["n"] == 3:
                raise httpx.ReadTimeout("cut", request=request)
        return handle(request)

    server.handle = flaky
    assert svc.sync().problem == "offline"
    assert svc.status()["cursor"] == 8  # two whole pages applied with their cursor
    assert svc.sync().ok and svc.status()["cursor"] == 16  # the last row (another shop's stock) is not ours


def test_tampered_page_refused_and_nothing_applied(open_service, server):
    svc = open_service()
    svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
    server.tamper_pages = True
    result = svc.sync()
    assert not result.ok and result.problem == "offline" and "verify" in result.detail["why"]
    assert svc.status()["cursor"] == 0 and svc.resident(CARD) is None
    assert svc.store.meta("lease") is None
    server.tamper_pages = False
    assert svc.sync().ok and svc.resident(CARD) is not None


def test_replayed_page_with_other_nonce_refused(open_service, server):
    svc = open_service()
    svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
    server.wrong_nonce = True
    result = svc.sync()
    assert result.problem == "offline" and "nonce" in result.detail["why"]
    assert svc.resident(CARD) is None


def test_unsigned_reply_is_offline(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    server.unsigned = True
    assert kiosk.sync().problem == "offline"
    assert kiosk.store.unacked_batches()  # kept for later


def test_chain_tamper_detected_before_signing(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    kiosk.award(CARD, "R01", "op1")
    kiosk.store.db.conn.execute("UPDATE events SET body = replace(body, '\"points\":2', '\"points\":9') WHERE kseq = 2")
    kiosk.store.db.conn.commit()
    result = kiosk.sync()
    assert not result.ok and result.problem == "chain_broken" and result.detail == {"kseq": 2}
    assert server.pushes == [] and kiosk.store.unacked_batches() == []
    assert "chain_broken" in kiosk.status()["stopped_reason"]


def test_resign_rebuilds_once(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    server.reject_pushes = ["bad_signature"]
    assert kiosk.sync().ok
    assert server.balances[CARD] == 110 and len(server.pushes) == 2


def test_resign_twice_stops_the_round_only(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    server.reject_pushes = ["bad_signature", "bad_signature"]
    result = kiosk.sync()
    assert result.problem == "sync_resign_failed"
    assert kiosk.status()["stopped_reason"] is None
    assert kiosk.sync().ok and server.balances[CARD] == 110


def test_batch_too_large_rebuilds_smaller(open_service, server):
    svc = open_service(batch_events=4)
    svc.enroll("http://central.test", CODE, seed=KIOSK_SEED)
    assert svc.sync().ok
    for _ in range(4):
        svc.award(CARD, "R01", "op1")
    server.reject_pushes = ["batch_too_large"]
    assert svc.sync().ok
    assert [len(b.events) for b in batches(server)] == [4, 2, 2]
    assert server.balances[CARD] == 108


def test_held_batch_resends_from_servers_position(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    build(kiosk)
    kiosk.award(CARD, "R01", "op1")
    build(kiosk)
    kiosk.store.mark_acked(1, "applied", 0, kiosk.clock())  # pretend; the server never got it
    assert kiosk.sync().ok
    assert [b.seq for b in batches(server)] == [2, 1, 2]
    assert server.balances[CARD] == 112


@pytest.mark.parametrize(("code", "problem"), [("fork", "sync_stopped"), ("protocol_unsupported", "upgrade_needed")])
def test_stop_actions_persist_and_refuse_further_sync(kiosk, server, code, problem):
    kiosk.award(CARD, "V01", "op1")
    server.reject_pushes = [code]
    result = kiosk.sync()
    assert result.problem == problem
    assert kiosk.status()["stopped_reason"].startswith(code)
    sent = len(server.pushes)
    again = kiosk.sync()
    assert again.problem == "sync_stopped" and len(server.pushes) == sent
    kiosk.award(CARD, "R01", "op1")  # recording goes on
    kiosk.resume()
    assert kiosk.sync().ok


def test_revoked_push_stops_everything(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    server.revoked = True
    result = kiosk.sync()
    assert result.problem == "sync_stopped" and result.detail["code"] == "kiosk_revoked"
    st = kiosk.status()
    assert st["revoked"] and st["stopped_reason"].startswith("kiosk_revoked")
    with pytest.raises(E.KioskRevoked):
        kiosk.award(CARD, "R01", "op1")
    kiosk.resume()  # cannot clear a revocation
    assert kiosk.status()["stopped_reason"]


@pytest.mark.parametrize(("code", "problem"), [("unavailable", "sync_retry"), ("malformed_request", "sync_fix_request")])
def test_retry_and_fix_request_keep_the_batch(kiosk, server, code, problem):
    kiosk.award(CARD, "V01", "op1")
    server.reject_pushes = [code]
    assert kiosk.sync().problem == problem
    assert kiosk.status()["stopped_reason"] is None
    first = kiosk.store.unacked_batches()[0]
    assert kiosk.sync().ok
    assert server.pushes[-1] == bytes(first["body"])


def test_enroll_pins_server_key_and_bad_code_is_refused(open_service, server, tmp_path):
    svc = open_service(tmp_path / "k2")
    with pytest.raises(E.Rejected) as info:
        svc.enroll("http://central.test", "ZZZZ-ZZZZ-ZZZZ")
    assert info.value.code == "bad_enroll_code"
    with pytest.raises(E.InvalidInput):
        svc.enroll("http://central.test", "not a code")
    info = svc.enroll("http://central.test", CODE.lower())
    assert info["server_key"] == server.key.public_hex and svc.kiosk_id == "K0001"
