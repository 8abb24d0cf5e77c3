"""The dashboard's one read: what central staff look at first each morning — open review
items by kind, kiosks silent for longer than ``SILENT_MS``, points issued and spent this
month against last month, the last checkpoint and the last audit's outcome. Built from the
reports, checkpoint and audit use cases, so the role and community checks are theirs."""

from server.services import audit, checkpoint, reports, review
from server.services.context import Context
from server.services.staff import Principal, require
from server.store import ledger
from server.store import log as logstore
from server.store import reports as reports_store
from sync.calendar import local_month

#: a kiosk not heard from (push or pull) for this long is listed as silent
SILENT_MS = 24 * 3_600_000


def previous_month(month: str) -> str:
    year, mon = (int(x) for x in month.split("-"))
    return f"{year - (mon == 1)}-{(mon - 2) % 12 + 1:02d}"


def open_reviews_by_kind(ctx: Context, who: Principal) -> dict[str, int]:
    """Open review items by kind that ``who`` may see: a count for an unscoped role, the
    scoped listing's count for a community manager."""
    require(who, "review.read")
    if who.communities is None:
        with ctx.store.read() as db:
            return ledger.open_review_counts(db)
    counts: dict[str, int] = {}
    for item in review.list_items(ctx, who, open_only=True):
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    return counts


def overview(ctx: Context, who: Principal) -> dict:
    require(who, "report.read")
    now = ctx.now()
    this = local_month(now)
    last = previous_month(this)
    kiosks = reports.report(ctx, who, "kiosks", this)["rows"]
    silent = []
    for k in kiosks:
        seen = max((t for t in (k["last_push_at"], k["last_pull_at"]) if t is not None), default=None)
        if k["status"] == "active" and (seen is None or now - seen > SILENT_MS):
            silent.append(k | {"last_seen": seen})
    silent.sort(key=lambda k: k["last_seen"] or 0)
    return {
        "now": now,
        "reviews": sorted(open_reviews_by_kind(ctx, who).items(), key=lambda kv: (-kv[1], kv[0])),
        "silent": silent,
        "silent_hours": SILENT_MS // 3_600_000,
        "months": {"this": this, "last": last},
        "points": {"this": reports.report(ctx, who, "issued", this)["totals"],
                   "last": reports.report(ctx, who, "issued", last)["totals"]},
        "checkpoint": checkpoint.latest(ctx, who),
        "audit": audit.last_result(ctx, who),
        "may_run_audit": who.can("audit.run"),
    }


def fleet_gauges(ctx: Context) -> dict:
    """The fleet's figures for /metrics (server.metrics): no principal, since the endpoint
    is guarded by its token or by being asked from this machine."""
    now = ctx.now()
    with ctx.store.read() as db:
        figures = reports_store.fleet_gauges(db, now - SILENT_MS)
        head, cursor, oldest = logstore.head(db), logstore.projected(db), logstore.oldest_unprojected_at(db)
    return figures | {"silent_hours": SILENT_MS // 3_600_000,
                      "projection_behind": head - cursor, "projection_lag_ms": 0 if oldest is None else max(0, now - oldest)}
