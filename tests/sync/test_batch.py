"""Batches: structural checks on the server side and placement in the kiosk's chain."""

import pytest

from schema.types import GENESIS
from schema.wire import Award, Item, Redeem, Void
from sync import codec
from sync.batch import ChainState, build_batch, event_id, parse_batch, place
from sync.protocol import RequestRejected

T0 = 1_764_000_000_000
CARD = "5101810000001"


def award(kseq, kiosk="K0001", points=2):
    return Award(id=event_id(kiosk, kseq), kseq=kseq, at=T0, operator="op1", resident=CARD, rule="R01", points=points)


def test_parse_accepts_a_well_formed_batch():
    body = build_batch("K0001", 1, GENESIS, T0, [award(1), award(2)])
    batch = parse_batch(body, "K0001")
    assert [e.id for e in batch.events] == ["K0001-1", "K0001-2"]


@pytest.mark.parametrize(
    "events, code",
    [
        ([], "invalid_batch"),
        ([award(1), award(3)], "invalid_batch"),  # kseq gap inside a batch
        ([award(1, kiosk="K0002")], "invalid_batch"),  # id names another kiosk
        ([Redeem(id="K0001-1", kseq=1, at=T0, operator="op1", resident=CARD, items=[Item(sku="G1", qty=2, price=5)], total=9)], "invalid_batch"),
        ([Redeem(id="K0001-1", kseq=1, at=T0, operator="op1", resident=CARD, items=[], total=0)], "invalid_batch"),
        (
            [Redeem(id="K0001-1", kseq=1, at=T0, operator="op1", resident=CARD, items=[Item(sku="G1", qty=1, price=5), Item(sku="G1", qty=1, price=5)], total=10)],
            "invalid_batch",
        ),
    ],
)
def test_parse_rejects_with_a_code(events, code):
    body = build_batch("K0001", 1, GENESIS, T0, events)
    with pytest.raises(RequestRejected) as err:
        parse_batch(body, "K0001")
    assert err.value.code == code


def test_parse_rejects_header_mismatch():
    body = build_batch("K0001", 1, GENESIS, T0, [award(1)])
    with pytest.raises(RequestRejected) as err:
        parse_batch(body, "K0002")
    assert err.value.code == "kiosk_mismatch"


def test_parse_rejects_future_protocol_version():
    body = build_batch("K0001", 1, GENESIS, T0, [award(1)]).replace(b'"v":1', b'"v":9')
    with pytest.raises(RequestRejected) as err:
        parse_batch(body, "K0001")
    assert err.value.code == "protocol_unsupported"
    assert err.value.status == 426


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"v":1}', b"\xff\xfe", b'{"v":1,"kiosk":"K0001","seq":0,"prev":"' + GENESIS.encode() + b'","created":1764000000000,"events":[]}'])
def test_parse_rejects_garbage_as_malformed(body):
    with pytest.raises(RequestRejected) as err:
        parse_batch(body, "K0001")
    assert err.value.code == "malformed_request"


def test_void_carries_reason():
    v = Void(id="K0001-2", kseq=2, at=T0, operator="op1", target="K0001-1", reason="打错了")
    assert b"\xe6\x89\x93" in codec.encode(v)


S = ChainState(next_seq=3, last_hash="a" * 64, next_kseq=10)


def test_place_next_in_chain_applies():
    assert place(S, 3, "a" * 64, "b" * 64, None) == "apply"


def test_place_same_bytes_again_is_duplicate():
    assert place(S, 2, "x" * 64, "c" * 64, "c" * 64) == "duplicate"


def test_place_different_bytes_at_used_seq_is_fork():
    assert place(S, 2, "x" * 64, "d" * 64, "c" * 64) == "fork"


def test_place_ahead_of_gap_is_held():
    assert place(S, 5, "x" * 64, "e" * 64, None) == "held"


def test_place_next_seq_with_wrong_prev_is_fork():
    assert place(S, 3, "f" * 64, "b" * 64, None) == "fork"
