"""Push: exactly-once application, held gaps, forks, and every kind of bad batch refused
with a 4xx naming the problem, quarantined, and nothing applied."""

import msgspec
import pytest
from schema.types import GENESIS

from server.store import chain
from sync import codec
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from tests.server.conftest import CARD_A, CARD_B
from tests.server.helpers import error_code, ledger_snapshot, points, reply_of, table_count


def test_push_applies_a_batch_once(kiosk, ctx):
    before = points(ctx, CARD_A)
    body = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10), kiosk.award(CARD_A, "LLHZ", 5))
    resp = kiosk.push(body)
    assert resp.status_code == 200, resp.text
    reply = reply_of(resp, ctx)
    assert (reply["status"], reply["seq"], reply["next_seq"], reply["hash"]) == ("applied", 1, 2, codec.digest(body))
    assert points(ctx, CARD_A) == before + 15
    assert table_count(ctx, "events", "kiosk = 'K0001'") == 2


def test_repush_is_noop_and_gets_the_same_acknowledgement(kiosk, ctx):
    body = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    first = reply_of(kiosk.push(body), ctx)
    snapshot = ledger_snapshot(ctx)
    again = kiosk.push(body)
    assert again.status_code == 200
    second = reply_of(again, ctx)
    assert second["status"] == "duplicate"
    assert {k: second[k] for k in ("seq", "hash", "next_seq", "feed")} == {k: first[k] for k in ("seq", "hash", "next_seq", "feed")}
    assert ledger_snapshot(ctx) == snapshot


def test_gap_is_held_then_filled(kiosk, ctx):
    before = points(ctx, CARD_A)
    b1 = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    b2 = kiosk.batch(kiosk.award(CARD_A, "LLHZ", 5))
    b3 = kiosk.batch(kiosk.award(CARD_A, "TJJF", 8))
    held = kiosk.push(b3)
    assert held.status_code == 202
    assert reply_of(held, ctx)["status"] == "held" and reply_of(held, ctx)["next_seq"] == 1
    assert points(ctx, CARD_A) == before
    assert kiosk.push(b3).status_code == 202  # resending a held batch is harmless
    assert reply_of(kiosk.push(b1), ctx)["next_seq"] == 2
    filled = reply_of(kiosk.push(b2), ctx)
    assert (filled["status"], filled["next_seq"]) == ("applied", 4)  # b3 applied behind it
    assert points(ctx, CARD_A) == before + 23
    assert reply_of(kiosk.push(b3), ctx)["status"] == "duplicate"


def test_held_batch_that_does_not_chain_is_quarantined_when_reached(kiosk, ctx):
    b1 = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    kiosk.batch(kiosk.award(CARD_A, "LLHZ", 5))
    bad3 = kiosk.batch(kiosk.award(CARD_A, "TJJF", 8), seq=3, prev="cd" * 32)
    assert kiosk.push(bad3).status_code == 202
    reply = reply_of(kiosk.push(b1), ctx)
    assert (reply["status"], reply["next_seq"]) == ("applied", 2)
    assert table_count(ctx, "batches", "kiosk = 'K0001' AND status = 'held'") == 1  # seq 3 waits for 2
    kiosk.kseq = 1
    fill2 = kiosk.batch(kiosk.award(CARD_A, "LLHZ", 5), seq=2, prev=reply["hash"])
    assert reply_of(kiosk.push(fill2), ctx)["next_seq"] == 3  # bad3 was dropped, not applied
    assert table_count(ctx, "quarantine", "code = 'fork'") == 1
    assert table_count(ctx, "batches", "kiosk = 'K0001' AND status = 'held'") == 0


def test_fork_is_rejected_quarantined_and_raises_a_tamper_alert(kiosk, ctx):
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    kiosk.kseq = 0  # a copied disk replaying its own history differently
    other = kiosk.batch(kiosk.award(CARD_A, "FXJZ", 20), seq=1, prev=GENESIS)
    snapshot = ledger_snapshot(ctx)
    resp = kiosk.push(other)
    assert resp.status_code == 409 and error_code(resp, ctx) == "fork"
    assert table_count(ctx, "quarantine", "code = 'fork' AND kiosk = 'K0001'") == 1
    assert table_count(ctx, "review_items", "kind = 'fork' AND kiosk = 'K0001'") == 1
    assert ledger_snapshot(ctx)[:5] == snapshot[:5]


def test_batch_not_chained_to_the_previous_one_is_a_fork(kiosk, ctx):
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    resp = kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10), seq=2, prev="ab" * 32))
    assert resp.status_code == 409 and error_code(resp, ctx) == "fork"


def test_one_changed_byte_is_a_bad_signature_counted_not_stored(kiosk, ctx):
    body = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    signature = kiosk.key.sign("batch", body)
    tampered = body.replace(b'"points":10', b'"points":90')
    snapshot = ledger_snapshot(ctx)
    resp = kiosk.push(tampered, signature=signature)
    assert resp.status_code == 401 and error_code(resp, ctx) == "bad_signature"
    assert ledger_snapshot(ctx) == snapshot
    with ctx.store.read() as db:
        assert chain.quarantine_rows(db) == []  # anyone can send bytes that fail: they are not kept
        row, = chain.unstored_rows(db)
    assert (row["kiosk"], row["code"], row["count"], row["bytes"], row["last_hash"]) == (
        kiosk.id, "bad_signature", 1, len(tampered), codec.digest(tampered))


def test_unknown_kiosk_is_refused(kiosk, ctx):
    body = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    resp = kiosk.push(body, kiosk="K0099")
    assert resp.status_code == 401 and error_code(resp, ctx) == "unknown_kiosk"


def test_revoked_kiosk_is_refused_and_quarantined(kiosk, ctx):
    from server.services.manage import revoke_kiosk
    from server.services.staff import SYSTEM

    revoke_kiosk(ctx, SYSTEM, kiosk.id)
    snapshot = ledger_snapshot(ctx)
    resp = kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    assert resp.status_code == 403 and error_code(resp, ctx) == "kiosk_revoked"
    assert table_count(ctx, "quarantine", "code = 'kiosk_revoked'") == 1
    assert ledger_snapshot(ctx) == snapshot


def test_missing_signature_header_is_named(kiosk, client, ctx):
    body = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    resp = client.post("/v1/push", content=body, headers={HEADER_KIOSK: kiosk.id})
    assert resp.status_code == 400
    assert reply_of(resp, ctx)["error"]["detail"]["header"] == HEADER_SIGNATURE


def _signed_push(kiosk, body: bytes):
    return kiosk.push(body, signature=kiosk.key.sign("batch", body))


def _batch_dict(kiosk, *events) -> dict:
    return msgspec.json.decode(kiosk.batch(*events, seq=1, prev=GENESIS))


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda b: b.update(events="nope"), "malformed_request"),
        (lambda b: b["events"][0].update(points="10"), "malformed_request"),  # wrong type
        (lambda b: b["events"][0].update(colour="red"), "malformed_request"),  # unknown field
        (lambda b: b.update(events=[]), "invalid_batch"),
        (lambda b: b.update(v=99), "protocol_unsupported"),
        (lambda b: b.update(kiosk="K0042"), "kiosk_mismatch"),
        (lambda b: b["events"][0].update(resident="9999999999999"), "invalid_batch"),
        (lambda b: b["events"][0].update(rule="NOSUCH"), "invalid_batch"),
        (lambda b: b["events"][0].update(points=-10), "invalid_batch"),  # sign contradicts the rule
        (lambda b: b["events"][0].update(kseq=2), "invalid_batch"),  # id and kseq disagree
    ],
)
def test_bad_award_batch_is_refused_with_its_code_and_nothing_applied(kiosk, ctx, mutate, code):
    batch = _batch_dict(kiosk, kiosk.award(CARD_A, "ZYFW", 10))
    mutate(batch)
    snapshot = ledger_snapshot(ctx)
    resp = _signed_push(kiosk, codec.encode(batch))
    assert 400 <= resp.status_code < 500
    assert error_code(resp, ctx) == code
    assert ledger_snapshot(ctx) == snapshot
    assert table_count(ctx, "quarantine", "code = ?", [code]) == 1


@pytest.mark.parametrize(
    "lines, code",
    [
        ([{"sku": "SOAP", "qty": -1, "price": 30}], "malformed_request"),  # negative quantity
        ([{"sku": "SOAP", "qty": 0, "price": 30}], "malformed_request"),
        ([{"sku": "NOSUCH", "qty": 1, "price": 30}], "invalid_batch"),  # SKU that never existed
    ],
)
def test_bad_redeem_lines_are_refused(kiosk, ctx, lines, code):
    batch = _batch_dict(kiosk, kiosk.redeem(CARD_A, ("SOAP", 1, 30)))
    batch["events"][0].update(items=lines, total=30)
    snapshot = ledger_snapshot(ctx)
    resp = _signed_push(kiosk, codec.encode(batch))
    assert error_code(resp, ctx) == code and 400 <= resp.status_code < 500
    assert ledger_snapshot(ctx) == snapshot


def test_one_bad_event_rejects_the_whole_batch(kiosk, ctx):
    before = points(ctx, CARD_B)
    body = kiosk.batch(kiosk.award(CARD_B, "ZYFW", 10), kiosk.award("0000000000000", "ZYFW", 10))
    resp = kiosk.push(body)
    assert resp.status_code == 422 and error_code(resp, ctx) == "invalid_batch"
    assert points(ctx, CARD_B) == before
    assert table_count(ctx, "batches", "kiosk = 'K0001'") == 0


def test_batch_skipping_event_numbers_is_invalid(kiosk, ctx):
    kiosk.kseq = 5
    resp = kiosk.push(kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10)))
    assert resp.status_code == 422 and error_code(resp, ctx) == "invalid_batch"
    assert reply_of(resp, ctx)["error"]["detail"]["expected"] == 1


def test_oversized_body_is_refused_before_reading(kiosk, ctx, settings):
    resp = kiosk.push(b"x" * (settings.max_body_bytes + 1), signature="00")
    assert resp.status_code == 413 and error_code(resp, ctx) == "body_too_large"


def test_not_json_is_malformed(kiosk, ctx):
    resp = _signed_push(kiosk, b"\xff\xfe not json")
    assert resp.status_code == 400 and error_code(resp, ctx) == "malformed_request"


def test_error_reply_names_the_request_it_answers(kiosk, ctx):
    body = b'{"broken":'
    resp = _signed_push(kiosk, body)
    assert reply_of(resp, ctx)["request"] == codec.digest(body)
