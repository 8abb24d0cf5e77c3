"""Batches: building them on the kiosk, checking them on the server, and placing a batch
in its kiosk's hash chain (apply, duplicate, hold for a gap, or fork)."""

from dataclasses import dataclass
from typing import Literal

from schema.wire import Batch, KioskEvent
from sync import codec, kinds
from sync.protocol import (
    MAX_BATCH_EVENTS,
    PROTOCOL_VERSION,
    RequestRejected,
    decode_request,
)


def event_id(kiosk: str, kseq: int) -> str:
    return f"{kiosk}-{kseq}"


def build_batch(kiosk: str, seq: int, prev: str, created: int, events: list[KioskEvent]) -> bytes:
    """The canonical bytes of a batch; the kiosk signs and stores exactly these."""
    return codec.encode(
        Batch(v=PROTOCOL_VERSION, kiosk=kiosk, seq=seq, prev=prev, created=created, events=events)
    )


def parse_batch(body: bytes, header_kiosk: str) -> Batch:
    """Decode verified bytes and check the rules that need no database.

    Raises ``RequestRejected`` naming the first problem found.
    """
    batch = decode_request(body, kinds.batch_type(), header_kiosk, "batch")
    if codec.encode(batch) != body:
        # Stored signed bytes must mean one thing to every reader: a duplicate key (which
        # one wins?), an escape or a space would let two parsers disagree about them.
        raise RequestRejected("malformed_request", "batch is not in canonical form (sorted keys, no whitespace, no duplicate keys)", seq=batch.seq)
    if not batch.events:
        raise RequestRejected("invalid_batch", "a batch carries at least one event", seq=batch.seq)
    if len(batch.events) > MAX_BATCH_EVENTS:
        raise RequestRejected("batch_too_large", f"{len(batch.events)} events; at most {MAX_BATCH_EVENTS}", seq=batch.seq)
    # Consecutive kseqs and ids derived from them: no id can appear twice in a batch.
    kseq = batch.events[0].kseq
    prefix = f"{batch.kiosk}-"
    kind_of = kinds.kind_of
    for ev in batch.events:
        if ev.kseq != kseq:
            raise RequestRejected("invalid_batch", f"event {ev.id}: kseq {ev.kseq} where {kseq} was expected (events are gap-free)", event=ev.id)
        if ev.id != prefix + str(kseq):
            raise RequestRejected("invalid_batch", f"event id {ev.id} must be {event_id(batch.kiosk, ev.kseq)}", event=ev.id)
        kind_of(ev).check(ev)
        kseq += 1
    return batch


@dataclass(frozen=True)
class ChainState:
    """Where the server stands with one kiosk."""

    next_seq: int  # the batch sequence number it will apply next
    last_hash: str  # hash of batch next_seq-1 (GENESIS before the first)
    next_kseq: int  # the event sequence number the next applied batch must start at


Placement = Literal["apply", "duplicate", "held", "fork"]


def place(state: ChainState, seq: int, prev: str, body_hash: str, stored_hash: str | None) -> Placement:
    """Decide what to do with a verified batch.

    ``stored_hash`` is the hash of the batch already stored at ``seq`` (applied or held),
    if any. The same bytes again is a duplicate; different bytes at a used seq is a fork.
    """
    if stored_hash is not None:
        return "duplicate" if stored_hash == body_hash else "fork"
    if seq < state.next_seq:
        return "fork"  # an applied seq whose batch we no longer match: cannot happen honestly
    if seq > state.next_seq:
        return "held"
    return "apply" if prev == state.last_hash else "fork"
