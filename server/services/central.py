"""The server's own chain of events (opening balances and stock, central corrections).

Central events travel the same road as a kiosk's: a ``CentralBatch`` signed with the
server key under domain ``central``, stored verbatim as kiosk ``C``, applied by the same
ledger rules, re-verified by ``audit``.
"""

from schema.types import CENTRAL_KIOSK
from schema.wire import CentralBatch, CentralEvent
from server.services.apply import apply_events
from server.services.context import Context
from server.store import Tx, chain
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
        chain.insert_batch(db, CENTRAL_KIOSK, seq, codec.digest(body), prev, body, signature, "applied", now)
        apply_events(db, chunk, CENTRAL_KIOSK, "", seq, now)
        chain.mark_batch_applied(db, CENTRAL_KIOSK, seq, now)
        seqs.append(seq)
    return seqs
