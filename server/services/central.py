"""The server's own chain of events (opening balances and stock, central corrections).

Central events travel the same road as a kiosk's: a ``CentralBatch`` signed with the
server key under domain ``central``, stored verbatim as kiosk ``C`` and appended to the
ingest log, projected by the same fold (``server.services.projector``) and re-verified by
``audit``. How it is projected follows ``settings.projection``:

* ``inline`` — in the staff action's own transaction, after everything logged before it:
  the action's reply finds the ledger holding it.
* ``background`` / ``separate`` — only logged, like a kiosk's batch: the projector that holds
  the lease (the background thread, or the ``jifen-server project`` process) folds it in log
  order. The serve process never folds the log itself there: one process projects, and a
  staff action does not fold a backlog of kiosk batches while it holds the writer.

A staff action that reads the ledger to decide what to post (a charge's overdraft, the
demo's opening balances: ``ledger_current``) first waits up to
``settings.projection_wait_seconds`` for the projection to reach the log as it was when the
action came, and is refused ``LedgerBehind`` (409 ``ledger_behind``, nothing done) if it
has not. A batch a kiosk pushes while the action waits is not waited for: the action is
ordered before it, as it would be had it come a moment earlier.
"""

import time

from schema.types import CENTRAL_KIOSK
from schema.wire import CentralBatch, CentralEvent
from server.errors import LedgerBehind
from server.services.context import Context
from server.services.projector import catch_up_in, lag
from server.store import Tx, chain, log
from sync import codec, kinds
from sync.chunks import chunks
from sync.protocol import PROTOCOL_VERSION

CENTRAL_BATCH_EVENTS = 1000
#: how often ``ledger_current`` looks at the projector's cursor while it waits, seconds
WAIT_POLL = 0.05


def next_central_ids(db: Tx, n: int) -> list[tuple[str, int]]:
    """(event id, kseq) for the next ``n`` central events: after the events projected and
    after the last central batch logged (outside ``inline`` it may not be projected yet)."""
    seq, _, kseq = chain.central_head(db)
    if seq > 1 and (last := chain.batch_at(db, CENTRAL_KIOSK, seq - 1)) is not None:
        events = codec.decode(bytes(last["body"]), kinds.central_batch_type()).events
        if events:
            kseq = max(kseq, events[-1].kseq + 1)
    return [(f"{CENTRAL_KIOSK}-{k}", k) for k in range(kseq, kseq + n)]


def append_central(ctx: Context, db: Tx, events: list[CentralEvent]) -> list[int]:
    """Sign, store and log ``events`` as central batches, inside the caller's transaction;
    ``inline``, also project them there (after everything logged before them)."""
    seqs = []
    for chunk in chunks(events, CENTRAL_BATCH_EVENTS):
        seq, prev, _ = chain.central_head(db)
        now = ctx.now()
        body = codec.encode(CentralBatch(v=PROTOCOL_VERSION, seq=seq, prev=prev, created=now, events=chunk))
        signature = ctx.key.sign("central", body)
        chain.insert_batch(db, CENTRAL_KIOSK, seq, codec.digest(body), prev, body, signature, "applied", now, applied_at=now)
        log.append(db, CENTRAL_KIOSK, seq, now)
        if ctx.settings.projection == "inline":
            catch_up_in(db, ctx.settings.projection_chunk_events)
        seqs.append(seq)
    if seqs and ctx.projector is not None:
        ctx.projector.poke()  # the background thread looks again (and within its interval after the commit)
    return seqs


def ledger_current(ctx: Context, action: str) -> None:
    """Before ``action`` reads the ledger to decide what it posts: nothing to wait for
    ``inline`` (its transaction catches up); otherwise wait up to
    ``settings.projection_wait_seconds`` for the projector's cursor to reach the log's head
    as it is now, else ``LedgerBehind``."""
    if ctx.settings.projection == "inline":
        return
    head, cursor = lag(ctx)
    waited = ctx.settings.projection_wait_seconds
    deadline = time.monotonic() + waited
    while cursor < head:
        left = deadline - time.monotonic()
        if left <= 0:
            raise LedgerBehind(action, head - cursor, waited)
        if ctx.projector is not None:
            ctx.projector.poke()
        time.sleep(min(WAIT_POLL, left))
        _, cursor = lag(ctx)
