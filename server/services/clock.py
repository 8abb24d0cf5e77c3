"""Noticing a kiosk whose clock is wrong: one review item per kiosk per programme day.

A wrong clock puts events on the wrong day (caps, boards, settlement) and can stretch an
offline lease, so central staff hear about it, but only once a day, not once a batch.
"""

from server.services.context import Context
from server.store import Tx, ledger
from sync.calendar import day_bounds, local_day


def note_clock_skew(ctx: Context, db: Tx, kiosk: dict, skew_ms: int, now: int) -> None:
    day_start, _ = day_bounds(local_day(now))
    if ledger.review_exists_since(db, kiosk["id"], "clock_skew", day_start):
        return
    detail = {"skew_ms": skew_ms, "threshold_ms": ctx.settings.clock_skew_threshold_ms}
    ledger.insert_review(db, "clock_skew", now, kiosk["id"], None, None, kiosk["shop"], detail)
