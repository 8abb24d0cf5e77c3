"""Push: a kiosk uploads one signed batch; the server acknowledges it exactly once.

Verify the signature over the exact bytes before decoding anything, parse, then place the
batch in the kiosk's chain (``sync.batch.place``): acknowledge it (and any held batches it
makes contiguous), answer a duplicate with the same acknowledgement, hold one that skips
ahead, reject a fork. To acknowledge is to append: after the checks that must refuse a
batch (its times, its place in the chain, ``sync.projection.refusal`` over the residents,
rules and goods it names), one transaction stores the verbatim bytes under their (kiosk,
seq) key, appends them to the ingest log and moves the kiosk's chain, so a replay can never
count twice; the ledger is derived from the log by ``server.services.projector`` (inline,
before the reply, unless ``settings.projection`` is ``background`` or ``separate``), and the reply is signed
only after the acknowledging commit is durable. A rejection of a verified batch is kept in
quarantine with the bytes as received, up to the kiosk's quarantine allowance; a body that
fails its signature may come from anyone and is only counted (``server.services.caller``).
"""

from dataclasses import dataclass

import msgspec

from schema.wire import Batch, PushReply
from server.services import scopes
from server.services.projector import after_ack
from server.services.caller import authenticate
from server.services.clock import note_clock_skew
from server.services.context import Context
from server.store import Tx, catalog, chain, ledger, log
from sync import codec
from sync.batch import ChainState, parse_batch, place
from sync.clock import refused_time
from sync.crashpoint import crash_point
from sync.keys import key_for_seq, peek_seq
from sync.ledger import Refs, View, references
from sync.projection import refusal
from sync.protocol import HEADER_SIGNATURE, PROTOCOL_VERSION, RequestRejected
from sync.signing import BadKey, BadSignature


@dataclass(frozen=True)
class PushOutcome:
    """The reply and its HTTP status (200 applied/duplicate, 202 held)."""

    status_code: int
    reply: PushReply


def push(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes, headers: dict[str, str],
         address: str | None = None) -> PushOutcome:
    # the signature first: what fails it is counted, never stored, and spends the address's allowance
    kiosk, seq = authenticate(ctx, kiosk_id, signature, body, address, lambda k: check_signature(ctx, k, signature, body))
    try:
        batch = checked_batch(kiosk, body, seq)
        crash_point("server.push.verified")
        # group commit: concurrent pushes share one transaction (each in its own savepoint),
        # keyed by the kiosk: only its chain is placed and moved, so other kiosks' pushes need not wait
        outcome = ctx.store.write_keyed(kiosk["id"], lambda db: place_batch(ctx, db, kiosk_id, batch, body, signature, key_state(kiosk)))
        crash_point("server.push.acked")
        if outcome.reply.status == "applied":
            outcome = confirmed(ctx, outcome)
        crash_point("server.push.after_commit")
        return outcome
    except RequestRejected as exc:
        quarantine(ctx, kiosk, exc, body, signature, headers)
        raise


def confirmed(ctx: Context, outcome: PushOutcome) -> PushOutcome:
    """Project right after the acknowledgement (inline), so the reply's ``feed`` covers the
    batch's effects; projected behind (``background``, ``separate``) it is the feed at
    acknowledgement, and the kiosk learns of the confirmation from a ``projected`` row."""
    after_ack(ctx)
    if ctx.settings.projection != "inline":
        return outcome
    with ctx.store.read() as db:
        stored = chain.batch_at(db, outcome.reply.kiosk, outcome.reply.seq)
    feed = stored["feed"] if stored and stored["feed"] is not None else outcome.reply.feed
    return PushOutcome(outcome.status_code, msgspec.structs.replace(outcome.reply, feed=feed))


def verify_batch(ctx: Context, kiosk: dict, signature: str | None, body: bytes) -> Batch:
    """Signature first (over the exact bytes), then the rules that need no database."""
    return checked_batch(kiosk, body, check_signature(ctx, kiosk, signature, body))


def check_signature(ctx: Context, kiosk: dict, signature: str | None, body: bytes) -> int | None:
    """Raise unless ``body`` is signed by the key the kiosk may use for it; the seq read
    from the bytes to choose that key (None when the kiosk has one key)."""
    if not signature:
        raise RequestRejected("missing_header", f"header {HEADER_SIGNATURE} is required", header=HEADER_SIGNATURE)
    key, seq = kiosk["public_key"], None
    if kiosk["key_from_seq"] > 1 or kiosk["rekey_from"] is not None:
        key, seq = key_for_batch(kiosk, body)
    try:
        ctx.verify_key(key).verify("batch", body, signature)
    except (BadSignature, BadKey) as exc:
        raise RequestRejected("bad_signature", f"batch signature of kiosk {kiosk['id']}: {exc}", kiosk=kiosk["id"]) from None
    return seq


def checked_batch(kiosk: dict, body: bytes, seq: int | None) -> Batch:
    """A verified body as a batch of this kiosk: refused when the kiosk is revoked (kept in
    quarantine: the thief's batches are evidence), or when it does not parse."""
    if kiosk["status"] == "revoked":
        raise RequestRejected("kiosk_revoked", f"kiosk {kiosk['id']} is revoked", kiosk=kiosk["id"])
    batch = parse_batch(body, kiosk["id"])
    if seq is not None and batch.seq != seq:
        raise RequestRejected("malformed_request", "the batch's seq could not be read unambiguously", kiosk=kiosk["id"])
    return batch


def key_for_batch(kiosk: dict, body: bytes) -> tuple[str, int | None]:
    """A kiosk that rotated its key: the key valid for this batch's seq (sync.keys), so a
    batch signed before the rotation took effect still verifies. From a retired key's
    fence on (a forced re-key pending), nothing verifies."""
    seq = peek_seq(body)
    if kiosk["rekey_from"] is not None and (seq is None or seq >= kiosk["rekey_from"]):
        raise RequestRejected("key_retired", f"central staff retired the key of kiosk {kiosk['id']}; re-enrol with the code they give",
                              kiosk=kiosk["id"], seq=kiosk["rekey_from"])
    if seq is None or seq >= kiosk["key_from_seq"]:
        return kiosk["public_key"], seq
    return key_for_seq(kiosk["keys"], seq) or kiosk["public_key"], seq


def key_state(kiosk: dict) -> tuple:
    return kiosk["public_key"], kiosk["key_from_seq"], kiosk["rekey_from"]


def place_batch(ctx: Context, db: Tx, kiosk_id: str, batch: Batch, body: bytes, signature: str,
                verified_with: tuple | None = None) -> PushOutcome:
    # Read the kiosk again under the write's lock on its chain: a concurrent push (to this or
    # another server process) or revoke may have moved it since ``authenticate`` read it.
    kiosk = chain.with_keys(db, chain.kiosk_by_id(db, kiosk_id))
    if kiosk["status"] == "revoked":
        raise RequestRejected("kiosk_revoked", f"kiosk {kiosk_id} is revoked", kiosk=kiosk_id)
    if verified_with is not None and key_state(kiosk) != verified_with:
        verify_batch(ctx, kiosk, signature, body)  # a key rotation landed since the signature was checked
    now = ctx.now()
    state = ChainState(kiosk["next_seq"], kiosk["last_hash"], kiosk["next_kseq"])
    body_hash = codec.digest(body)
    stored = chain.batch_at(db, kiosk_id, batch.seq)
    placement = place(state, batch.seq, batch.prev, body_hash, stored["hash"] if stored else None)
    if placement == "fork":
        raise RequestRejected(
            "fork",
            f"batch {batch.seq} of kiosk {kiosk_id} conflicts with the chain the server holds (next seq {state.next_seq})",
            kiosk=kiosk_id,
            seq=batch.seq,
        )
    if placement == "duplicate":
        if stored["status"] == "held":
            return _reply(202, kiosk_id, batch.seq, body_hash, "held", state.next_seq, catalog.feed_high_water(db), now)
        return _reply(200, kiosk_id, batch.seq, body_hash, "duplicate", state.next_seq, stored["feed"] or 0, now)
    if placement == "held":
        if chain.held_bytes(db, kiosk_id) + len(body) > ctx.settings.held_bytes_per_kiosk:
            raise RequestRejected("held_limit", f"kiosk {kiosk_id} already has its allowance of batches held ahead of seq {state.next_seq}",
                                  kiosk=kiosk_id, next_seq=state.next_seq)
        chain.insert_batch(db, kiosk_id, batch.seq, body_hash, batch.prev, body, signature, "held", now)
        chain.record_push(db, kiosk_id, now)
        return _reply(202, kiosk_id, batch.seq, body_hash, "held", state.next_seq, catalog.feed_high_water(db), now)
    chain.insert_batch(db, kiosk_id, batch.seq, body_hash, batch.prev, body, signature, "applied", now, applied_at=now)
    state = acknowledge(ctx, db, kiosk, state, batch, body_hash, now)
    state = drain_held(ctx, db, kiosk, state, now)
    feed = catalog.feed_high_water(db)
    crash_point("server.push.before_commit")
    return _reply(200, kiosk_id, batch.seq, body_hash, "applied", state.next_seq, feed, now)


def acknowledge(ctx: Context, db: Tx, kiosk: dict, state: ChainState, batch: Batch, body_hash: str, now: int) -> ChainState:
    """Acknowledge one stored batch whose place is ``apply``: refuse it for what must
    refuse it, else append it to the log and advance the kiosk's chain. (The caller marks
    its row applied: a new batch is stored applied, a held one is updated.)"""
    first = batch.events[0]
    for at in (batch.created, *(ev.at for ev in batch.events)):
        if why := refused_time(at, now):  # sync.clock: what no kiosk applying the rule records
            raise RequestRejected("invalid_batch", f"batch {batch.seq} of kiosk {kiosk['id']}: {why}", kiosk=kiosk["id"], seq=batch.seq)
    if first.kseq != state.next_kseq:
        raise RequestRejected(
            "invalid_batch",
            f"batch {batch.seq} starts at event seq {first.kseq}; kiosk {kiosk['id']} is at {state.next_kseq}",
            kiosk=kiosk["id"],
            event=first.id,
            expected=state.next_kseq,
        )
    events = list(batch.events)
    refs = references(events)
    refusal(events, kiosk["id"], kiosk["shop"], refused_by(db, refs), refs)
    log.append(db, kiosk["id"], batch.seq, now, scopes.touched(db, kiosk["id"], kiosk["shop"], refs))
    new = ChainState(batch.seq + 1, body_hash, batch.events[-1].kseq + 1)
    chain.advance_kiosk_chain(db, kiosk["id"], new.next_seq, new.last_hash, new.next_kseq, now)
    ahead = max(max(ev.at for ev in batch.events), batch.created) - now
    if ahead > ctx.settings.clock_skew_threshold_ms:
        chain.record_clock_skew(db, kiosk["id"], ahead)
        note_clock_skew(ctx, db, kiosk, ahead, now)
    return new


def refused_by(db: Tx, refs: Refs) -> View:
    """What ``sync.projection.refusal`` checks a batch against: the residents, rules and
    goods it names (``refs``), as they exist."""
    return View(residents=catalog.resident_statuses(db, refs.cards), rules=catalog.rule_infos(db, refs.rules),
                goods=catalog.good_infos(db, refs.skus))


def drain_held(ctx: Context, db: Tx, kiosk: dict, state: ChainState, now: int) -> ChainState:
    """Apply held batches that are now contiguous, each checked again as if just received.
    A held batch that no longer fits is moved to quarantine; the kiosk will resend it."""
    while (held := chain.batch_at(db, kiosk["id"], state.next_seq)) is not None and held["status"] == "held":
        body = held["body"]
        try:
            with db.savepoint():  # a savepoint: a failing held batch unwinds alone
                batch = verify_batch(ctx, kiosk, held["signature"], body)
                if place(state, batch.seq, batch.prev, held["hash"], None) != "apply":
                    raise RequestRejected("fork", f"held batch {batch.seq} of kiosk {kiosk['id']} does not chain", kiosk=kiosk["id"], seq=batch.seq)
                state = acknowledge(ctx, db, kiosk, state, batch, held["hash"], now)
                chain.mark_batch_applied(db, kiosk["id"], batch.seq, now)
        except RequestRejected as exc:
            chain.delete_held_batch(db, kiosk["id"], held["seq"])
            record_rejection(ctx, db, kiosk, exc, body, held["signature"], {"source": "held"}, now)
            break
    return state


def quarantine(ctx: Context, kiosk: dict, exc: RequestRejected, body: bytes, signature: str | None, headers: dict) -> None:
    with ctx.store.write() as db:
        record_rejection(ctx, db, kiosk, exc, body, signature, headers, ctx.now())


def record_rejection(ctx: Context, db: Tx, kiosk: dict, exc: RequestRejected, body: bytes, signature: str | None,
                     headers: dict, now: int) -> None:
    """Keep a refused, verified request in quarantine, within the kiosk's allowance
    (``settings.quarantine_bytes_per_kiosk``); beyond it only count it."""
    body_hash = codec.digest(body)
    qid = None
    if chain.quarantine_bytes(db, kiosk["id"]) + len(body) + chain.QUARANTINE_ROW_BYTES <= ctx.settings.quarantine_bytes_per_kiosk:
        qid = chain.insert_quarantine(db, kiosk["id"], now, exc.code, exc.message, body, signature, headers)
    else:
        chain.count_unstored(db, kiosk["id"], exc.code, body_hash, len(body), now)
    if exc.code == "fork":
        # A second history for one kiosk: its key or its disk is in someone else's hands.
        detail = {"quarantine": qid, "hash": body_hash, "seq": exc.detail.get("seq"), "message": exc.message}
        ledger.insert_review(db, "fork", now, kiosk["id"], None, None, kiosk["shop"], detail)


def _reply(code: int, kiosk: str, seq: int, hash_: str, status: str, next_seq: int, feed: int, now: int) -> PushOutcome:
    reply = PushReply(v=PROTOCOL_VERSION, kiosk=kiosk, seq=seq, hash=hash_, status=status, next_seq=next_seq, feed=feed, server_time=now)
    return PushOutcome(code, reply)
