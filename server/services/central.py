"""The server's own chain of events (opening balances and stock, central corrections).

Central events travel the same road as a kiosk's: a ``CentralBatch`` signed with the
server key under domain ``central``, stored verbatim as kiosk ``C`` and appended to the
ingest log, projected by the same fold (``server.services.projector``) — in the staff
action's own transaction, after everything logged before it — and re-verified by ``audit``.
"""

from schema.types import CENTRAL_KIOSK
from schema.wire import CentralBatch, CentralEvent
from server.services.context import Context
from server.services.projector import catch_up_in
from server.store import Tx, chain, log
from sync import codec
from sync.chunks import chunks
from sync.protocol import PROTOCOL_VERSION

CENTRAL_BATCH_EVENTS = 1000


def next_central_ids(db: Tx, n: int) -> list[tuple[str, int]]:
    """(event id, kseq) for the next ``n`` central events."""
    _, _, kseq = chain.central_head(db)
    return [(f"{CENTRAL_KIOSK}-{k}", k) for k in range(kseq, kseq + n)]


def append_central(ctx: Context, db: Tx, events: list[CentralEvent]) -> list[int]:
    """Sign, store and apply ``events`` as central batches, inside the caller's transaction."""
    seqs = []
    for chunk in chunks(events, CENTRAL_BATCH_EVENTS):
        seq, prev, _ = chain.central_head(db)
        now = ctx.now()
        body = codec.encode(CentralBatch(v=PROTOCOL_VERSION, seq=seq, prev=prev, created=now, events=chunk))
        signature = ctx.key.sign("central", body)
        chain.insert_batch(db, CENTRAL_KIOSK, seq, codec.digest(body), prev, body, signature, "applied", now, applied_at=now)
        log.append(db, CENTRAL_KIOSK, seq, now)
        catch_up_in(db, ctx.settings.projection_chunk_events)  # central_head counts the events projected
        seqs.append(seq)
    return seqs
