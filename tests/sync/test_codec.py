"""The canonical codec: one byte form, round-trips, and no floats."""

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.types import GENESIS
from schema.wire import Award, Batch, Item, Redeem
from sync import codec
from sync.batch import build_batch, event_id

T0 = 1_764_000_000_000

cards = st.from_regex(r"[0-9]{13}", fullmatch=True)
texts = st.text(max_size=60)
points = st.integers(-1000, 1000)


@st.composite
def awards(draw, kseq=1):
    return Award(
        id=event_id("K0001", kseq),
        kseq=kseq,
        at=T0 + draw(st.integers(0, 10**9)),
        operator="op1",
        resident=draw(cards),
        rule="R01",
        points=draw(points),
        note=draw(texts),
    )


@given(awards())
def test_event_round_trips_byte_exact(ev):
    data = codec.encode(ev)
    back = codec.decode(data, Award)
    assert back == ev
    assert codec.encode(back) == data


@given(st.lists(awards(), min_size=1, max_size=5))
def test_batch_round_trips_byte_exact(evs):
    evs = [msgspec.structs.replace(e, kseq=i + 1, id=event_id("K0001", i + 1)) for i, e in enumerate(evs)]
    body = build_batch("K0001", 1, GENESIS, T0, evs)
    assert codec.encode(codec.decode(body, Batch)) == body


def test_keys_are_sorted_and_compact():
    ev = Redeem(id="K0001-1", kseq=1, at=T0, operator="op1", resident="1234567890123", items=[Item(sku="G01", qty=2, price=5)], total=10)
    assert codec.encode(ev) == (
        b'{"at":1764000000000,"id":"K0001-1","items":[{"price":5,"qty":2,"sku":"G01"}],'
        b'"kseq":1,"operator":"op1","resident":"1234567890123","total":10,"type":"redeem"}'
    )


def test_non_ascii_is_raw_utf8():
    ev = Award(id="K0001-1", kseq=1, at=T0, operator="op1", resident="1234567890123", rule="R01", points=2, note="垃圾分类")
    assert "垃圾分类".encode() in codec.encode(ev)


@pytest.mark.parametrize(
    "body, where",
    [
        (b'{"type":"award","id":"K0001-1","kseq":1,"at":1764000000000,"operator":"op1","resident":"1234567890123","rule":"R01","points":2.0}', "points"),
        (b'{"type":"award","id":"K0001-1","kseq":1,"at":1764000000000,"operator":"op1","resident":"1234567890123","rule":"R01","points":true}', "points"),
        (b'{"type":"award","id":"K0001-1","kseq":-1,"at":1764000000000,"operator":"op1","resident":"1234567890123","rule":"R01","points":2}', "kseq"),
        (b'{"type":"award","id":"K0001-1","kseq":1,"at":1764000000000,"operator":"op1","resident":"12","rule":"R01","points":2}', "resident"),
        (b'{"type":"award","id":"K0001-1","kseq":1,"at":1764000000000,"operator":"op1","resident":"1234567890123","rule":"R01","points":2,"extra":1}', "extra"),
    ],
)
def test_decode_rejects_and_names_the_field(body, where):
    with pytest.raises(codec.DecodeError) as err:
        codec.decode(body, Award)
    assert where in err.value.message


@given(st.binary(max_size=200))
def test_garbage_never_decodes_silently(data):
    try:
        codec.decode(data, Batch)
    except codec.DecodeError:
        pass


def test_chain_hash_depends_on_prev_and_bytes():
    a = codec.chain_hash(GENESIS, b"x")
    assert a != codec.chain_hash(GENESIS, b"y")
    assert a != codec.chain_hash("1" * 64, b"x")
    assert len(a) == 64
