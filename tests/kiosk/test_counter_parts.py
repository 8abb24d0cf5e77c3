"""Headless parts behind the app's screens: sync back-off, receipts (signed payload, masked
name, QR text, saved file), sign-in lockout and shift totals. No Textual here."""

from dataclasses import replace

import pytest

from kiosk import receipts, shift
from kiosk.background import Backoff, sync_once
from kiosk.counter import MAX_FAILURES, Counter
from kiosk.errors import SignInRefused
from schema.wire import OperatorRec
from sync.board import mask_name
from sync.passwords import hash_pin
from kiosk.keys import load_key
from schema.wire import KioskKeys, PublishedKeys
from sync import codec
from sync import receipt as sync_receipt
from sync.protocol import ReceiptRefused
from tests.conftest import MINUTE, SECOND
from tests.kiosk.fakeserver import CARD, SHOP


def test_backoff_doubles_to_a_ceiling_and_resets():
    b = Backoff(interval=60, first_retry=5, max_wait=300)
    assert [b.next_delay(False) for _ in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert b.next_delay(True) == 60 and b.failures == 0


def test_sync_once_never_raises(kiosk, server):
    server.down = True
    out = sync_once(kiosk)
    assert not out.result.ok and out.result.problem == "offline" and out.status["reachable"] is False


def _published(kiosk) -> PublishedKeys:
    key = load_key(kiosk.settings.key_path)
    body = sync_receipt.keys_body(key.public_hex, 1764039600000, [KioskKeys(
        kiosk=kiosk.kiosk_id, shop=SHOP, status="active", keys=sync_receipt.key_windows([(1, key.public_hex)]))])
    return codec.decode(body, PublishedKeys)


def test_a_saved_receipt_ends_with_a_payload_that_verifies(kiosk, tmp_path):
    recorded = kiosk.award(CARD, "V01", "op1", receipt=True)
    text = receipts.save(receipts.build(recorded), "zh", tmp_path).read_text()
    checked = sync_receipt.verify(text.rstrip("\n").rsplit("\n", 1)[1], _published(kiosk))
    assert checked.event == recorded.event and checked.receipt.seq == 1
    forged = replace(checked.receipt, event_bytes=checked.receipt.event_bytes.replace(b'"points":', b'"points":1'))
    with pytest.raises(ReceiptRefused) as refused:
        sync_receipt.verify(sync_receipt.encode(forged), _published(kiosk))
    assert refused.value.code == "receipt_signature"


@pytest.mark.parametrize("name", ["张晓明", "欧阳娜娜", " 张　伟 "])
def test_a_receipt_masks_the_name_as_the_board_does(kiosk, name):
    recorded = kiosk.award(CARD, "V01", "op1", receipt=True)
    text = "\n".join(receipts.render(replace(receipts.build(recorded), resident_name=name), "zh"))
    assert mask_name(name) in text and name.strip() not in text


def test_receipt_saved_with_qr_and_wide_characters_aligned(kiosk, tmp_path):
    event = kiosk.redeem(CARD, [("OIL", 1), ("TOWEL", 2)], "op1", receipt=True)
    r = receipts.build(event)
    path = receipts.save(r, "zh", tmp_path)
    text = path.read_text()
    assert path.name == f"{event.id}.txt" and text.rstrip().endswith(r.link) and "100 → 40" in text
    lines = [ln for ln in receipts.render(r, "zh") if "×" in ln]
    assert len({receipts.width(ln.split("×")[0]) for ln in lines}) == 1  # columns line up
    qr = receipts.qr_lines(r.qr_payload)
    assert len(qr) >= 10 and len({len(q) for q in qr}) == 1 and "█" in "".join(qr)


def _with_pins(kiosk, server):
    server.put("operator", "op1", OperatorRec(id="op1", shop=SHOP, name="刘阿姨", role="operator",
                                             pin_hash=hash_pin("1234", bytes(16)), status="active"), SHOP)
    server.put("operator", "op2", OperatorRec(id="op2", shop="S09", name="外站", role="operator",
                                             pin_hash=hash_pin("1234", bytes(16)), status="active"), SHOP)
    assert kiosk.sync().ok
    return Counter(kiosk.store, kiosk.clock)


def test_lockout_after_repeated_failures(kiosk, server, clock):
    counter = _with_pins(kiosk, server)
    for left in range(MAX_FAILURES - 1, 0, -1):
        with pytest.raises(SignInRefused) as info:
            counter.sign_in("op1", "0000")
        assert info.value.key == "signin_wrong" and info.value.fields["left"] == left
    with pytest.raises(SignInRefused) as info:
        counter.sign_in("op1", "0000")
    assert info.value.key == "signin_locked"
    with pytest.raises(SignInRefused):
        counter.sign_in("op1", "1234")
    clock.advance(5 * MINUTE + SECOND)
    assert counter.sign_in("op1", "1234").id == "op1"


def test_operator_of_another_shop_and_non_supervisor_refused(kiosk, server):
    counter = _with_pins(kiosk, server)
    with pytest.raises(SignInRefused) as info:
        counter.sign_in("op2", "1234")
    assert info.value.key == "signin_other_shop"
    with pytest.raises(SignInRefused) as info:
        counter.supervisor("op1", "1234")
    assert info.value.key == "signin_not_supervisor"


def test_shift_totals_cancel_voids_and_compare_stock(kiosk, clock):
    kiosk.store.set_meta(shift_start_kseq=1)
    kiosk.award(CARD, "V01", "op1")
    kiosk.award(CARD, "P01", "op1")
    gone = kiosk.redeem(CARD, [("RICE", 1)], "op1").id
    kiosk.void(gone, "退货", "op1")
    kiosk.redeem(CARD, [("OIL", 1)], "op1")
    kiosk.stock_in([("TOWEL", 5)], "op1")
    rep = shift.report(kiosk, {"OIL": 8}, clock())
    op = rep.per_operator["op1"]
    assert (op.events, op.awarded, op.deducted, op.redeemed, op.voids) == (6, 10, 5, 50, 1)
    assert rep.per_rule == {"P01": (1, -5), "V01": (1, 10)}
    assert rep.per_good == {"OIL": (1, 50)} and rep.received == {"TOWEL": 5}
    assert ("OIL", 9, 8) in rep.stock and ("RICE", 1, None) in rep.stock
