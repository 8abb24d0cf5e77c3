"""Review items that no single push raises: quarantined requests and gaps held too long.

Run by the periodic tick. Quarantined requests (an invalid batch, a revoked kiosk's push, …;
forks already raise their own item) become one ``quarantined`` item per kiosk, code and
round, naming the first quarantine row and how many there were. Refused requests whose
bodies were not kept (a bad signature, or beyond the kiosk's quarantine allowance) become
one ``quarantined`` item per kiosk, code and round too, with ``stored: false``, how many
arrived since the last item, and the last one's SHA-256. A kiosk whose held batches
have waited longer than ``GAP_HELD_MS`` for the missing one gets one ``gap_held`` item per
programme day: its missing batch may be lost, or its disk restored from an old copy.
"""

from server.services.context import Context
from server.store import catalog, chain, ledger
from sync.calendar import day_bounds, local_day

GAP_HELD_MS = 24 * 3_600_000
SEEN_KEY = "watch_quarantine_seen"


def raise_items(ctx: Context) -> dict:
    now = ctx.now()
    out = {"quarantined": 0, "gap_held": 0}
    with ctx.store.write() as db:
        seen = int(catalog.meta_value(db, SEEN_KEY) or 0)
        rows = chain.quarantine_groups_after(db, seen)
        for kiosk, code, first, last, n, since, shop in rows:
            message = chain.quarantine_message(db, first)
            detail = {"quarantine": first, "last": last, "count": n, "code": code, "since": since, "message": message}
            ledger.insert_review(db, "quarantined", now, kiosk, None, None, shop, detail)
            out["quarantined"] += 1
        if rows:
            catalog.set_meta_value(db, SEEN_KEY, str(max(r[3] for r in rows)))
        for u in chain.unstored_unreviewed(db):
            detail = {"stored": False, "code": u["code"], "count": u["count"] - u["reviewed"], "total": u["count"],
                      "bytes": u["bytes"], "last_hash": u["last_hash"], "last_at": u["last_at"]}
            ledger.insert_review(db, "quarantined", now, u["kiosk"], None, None, u["shop"], detail)
            chain.mark_unstored_reviewed(db, u["kiosk"], u["code"], u["count"])
            out["quarantined"] += 1
        day_start, _ = day_bounds(local_day(now))
        held = chain.held_gaps(db, now - GAP_HELD_MS)
        for kiosk, first_held, n, since, next_seq, shop in held:
            if ledger.review_exists_since(db, kiosk, "gap_held", day_start):
                continue
            detail = {"missing_seq": next_seq, "held_from_seq": first_held, "held_batches": n, "waiting_since": since}
            ledger.insert_review(db, "gap_held", now, kiosk, None, None, shop, detail)
            out["gap_held"] += 1
    return out
