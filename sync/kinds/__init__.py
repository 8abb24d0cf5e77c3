"""The event kinds: ``KINDS`` maps each wire tag to the one ``Kind`` that knows everything
about events of that tag (``sync.kinds.base`` says what a kind holds; one module per kind).

Every consumer — the ledger planner, batch checks, both stores, receipts, shift and central
reports — looks an event's kind up here instead of testing its type, so a new kind is one
new module registered below. A tag nobody registered fails loudly (``UnknownKind``); it
never falls into another kind's branch. Decoding goes through the registry too: the event
union a batch decodes with is built from the registered kinds.
"""

import typing
from typing import Any, Literal

import msgspec

from schema.wire import Batch, CentralBatch
from sync import codec
from sync.kinds import (adjust, award, charge, redeem, shift_close, stock_adjust, stock_in, task_claim, task_done, voice,
                        voice_rating, void)
from sync.kinds.base import Columns, Kind, ReceiptLine, ReceiptPart, ShiftLine, Step

__all__ = ["KINDS", "Columns", "Kind", "ReceiptLine", "ReceiptPart", "ShiftLine", "Step", "UnknownKind",
           "batch_type", "central_batch_type", "decode_event", "kind_of", "lookup", "register", "tag_of", "tags",
           "unregister"]

Origin = Literal["kiosk", "central"]


class UnknownKind(LookupError):
    """An event tag no registered kind claims (``tag``)."""

    def __init__(self, tag: str):
        super().__init__(f"no event kind {tag!r} is registered")
        self.tag = tag


KINDS: dict[str, Kind] = {}
_by_type: dict[type, Kind] = {}  # each wire struct's kind, filled as events are met (the fold asks per event)
_types: dict[tuple, Any] = {}  # built decode types, per registry state


def register(kind: Kind) -> Kind:
    """Add ``kind`` under its tag (its wire struct must carry the same tag)."""
    if kind.wire.__struct_config__.tag != kind.tag:
        raise ValueError(f"kind {kind.tag}: its wire struct is tagged {kind.wire.__struct_config__.tag!r}")
    if KINDS.get(kind.tag, kind) is not kind:
        raise ValueError(f"event kind {kind.tag!r} is already registered")
    KINDS[kind.tag] = kind
    _by_type.clear()
    return kind


def unregister(tag: str) -> None:
    """Remove a kind (a test's throwaway kind, once the test is done)."""
    KINDS.pop(tag, None)
    _by_type.clear()


for _kind in (award.KIND, redeem.KIND, void.KIND, stock_in.KIND, adjust.KIND, stock_adjust.KIND, charge.KIND, shift_close.KIND,
              voice.KIND, voice_rating.KIND, task_claim.KIND, task_done.KIND):
    register(_kind)


def lookup(tag: str) -> Kind:
    try:
        return KINDS[tag]
    except KeyError:
        raise UnknownKind(tag) from None


def tag_of(ev: Any) -> str:
    """The wire tag of an event struct: what both databases call its kind."""
    return type(ev).__struct_config__.tag


def kind_of(ev: Any) -> Kind:
    kind = _by_type.get(type(ev))
    if kind is None:
        kind = _by_type[type(ev)] = lookup(tag_of(ev))
    return kind


def tags(origin: Origin | None = None, **flags: bool) -> tuple[str, ...]:
    """Registered tags recorded by ``origin`` whose class flags (``reverses``,
    ``moves_stock``, ``on_board``, ``hands_out_goods``) have the values given."""
    return tuple(t for t, k in KINDS.items()
                 if (origin is None or k.origin == origin) and all(getattr(k, f) == v for f, v in flags.items()))


def event_type(origin: Origin) -> Any:
    """The tagged union of the registered kinds recorded by ``origin``."""
    wires = tuple(KINDS[t].wire for t in tags(origin))
    key = ("event", wires)
    if key not in _types:
        _types[key] = typing.Union[wires]  # noqa: UP007 - a union built from a tuple at run time
    return _types[key]


def decode_event(body: bytes, origin: Origin = "kiosk") -> Any:
    """One stored event's bytes; raises ``codec.DecodeError`` for an unregistered tag."""
    return codec.decode(body, event_type(origin))


def _batch(base: type, origin: Origin) -> type:
    key = (base, event_type(origin))
    if key not in _types:
        # a subclass whose only change is the events' union: same fields, same bytes
        _types[key] = msgspec.defstruct(base.__name__, [("events", list[event_type(origin)])], bases=(base,))
    return _types[key]


def batch_type() -> type[Batch]:
    """``Batch`` decoding the registered kiosk kinds."""
    return _batch(Batch, "kiosk")


def central_batch_type() -> type[CentralBatch]:
    """``CentralBatch`` decoding the registered central kinds."""
    return _batch(CentralBatch, "central")
