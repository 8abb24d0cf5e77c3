"""The event-kind registry: every kind has one home, and an unknown one fails loudly."""

import typing

import pytest

from schema.types import GENESIS
from schema.wire import CentralEvent, KioskEvent, Wire
from sync import codec, kinds
from sync.batch import build_batch, parse_batch
from sync.ledger import View, plan_batch
from sync.protocol import RequestRejected

T0 = 1_764_000_000_000


class Stray(Wire, tag="stray"):
    id: str
    kseq: int
    at: int
    operator: str


def test_the_wire_unions_name_exactly_the_registered_kinds():
    # a kind added to the registry but not to schema.wire's unions (or the reverse) is
    # half added: the unions are what the wire module documents
    assert set(typing.get_args(KioskEvent)) == {kinds.KINDS[t].wire for t in kinds.tags("kiosk")}
    assert set(typing.get_args(CentralEvent)) == {kinds.KINDS[t].wire for t in kinds.tags("central")}


def test_every_kind_is_registered_under_its_wire_tag():
    for tag, kind in kinds.KINDS.items():
        assert kind.wire.__struct_config__.tag == tag == kind.tag


def test_an_unregistered_kind_fails_loudly_everywhere():
    ev = Stray(id="K0001-1", kseq=1, at=T0, operator="op1")
    with pytest.raises(kinds.UnknownKind):
        kinds.kind_of(ev)
    with pytest.raises(kinds.UnknownKind):
        kinds.lookup("stray")
    with pytest.raises(kinds.UnknownKind):
        plan_batch([ev], "K0001", "S01", View())
    with pytest.raises(codec.DecodeError):
        kinds.decode_event(codec.encode(ev))
    body = build_batch("K0001", 1, GENESIS, T0, [ev])
    with pytest.raises(RequestRejected) as exc:
        parse_batch(body, "K0001")
    assert exc.value.code == "malformed_request"


def test_a_registered_kind_decodes_in_a_batch_and_is_gone_when_unregistered():
    class StrayKind(kinds.Kind):
        tag, wire, origin = "stray", Stray, "kiosk"

        def columns(self, ev):
            return kinds.Columns(operator=ev.operator)

    kinds.register(StrayKind())
    try:
        ev = Stray(id="K0001-1", kseq=1, at=T0, operator="op1")
        body = build_batch("K0001", 1, GENESIS, T0, [ev])
        assert parse_batch(body, "K0001").events == [ev]
        assert plan_batch([ev], "K0001", "S01", View()).postings == []
        with pytest.raises(ValueError):
            kinds.register(StrayKind())  # one home: a tag is registered once
    finally:
        kinds.unregister("stray")
    with pytest.raises(codec.DecodeError):
        kinds.decode_event(codec.encode(ev))
