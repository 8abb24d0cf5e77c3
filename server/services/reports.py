"""Reports for central staff and the public: the monthly board, shop settlement, points
issued and spent (one month, or the twelve up to it by month for charts), coverage and
kiosk health. Each is a dict with ``columns`` and ``rows`` (so one renderer,
``server.reports.render``, makes CSV, xlsx, HTML and a table of any of them) plus
``totals``, and ``labels``: the column headers in the language asked for
(``server.reports.labels``).

Settlement ties out by construction and by test: a shop's ``total`` is the sum of the
postings to ``shop:<id>`` in the month (redeemed − voided − charged).

The board also goes to kiosks through pull: one feed row per community-month (kind
``board``, key ``<community>/<month>``), holding the top ``BOARD_TOP`` lines.
"""

import json
import re
from collections import defaultdict

from schema.feeds import FEEDS
from schema.wire import BoardLine, BoardRec
from server.errors import Invalid
from server.reports import labels
from server.services import feed, voice
from server.services.context import Context
from server.services.staff import Principal, record, require, scope_filter
from server.store import catalog
from server.store import reports as q
from sync import codec, kinds
from sync.board import mask_name, rank
from sync.calendar import local_month, month_bounds

KINDS = ("board", "settlement", "issued", "trend", "coverage", "kiosks", "shifts", "voice")
BOARD_TOP = 50
#: months the trend covers, ending with the month asked for
TREND_MONTHS = 12
#: a community id as ``server.services.manage`` accepts it (so a file name built from it is plain ASCII)
COMMUNITY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$")


def bounds(month: str) -> tuple[int, int]:
    try:
        year, mon = month.split("-")
        if len(year) != 4 or len(mon) != 2 or not 1 <= int(mon) <= 12:
            raise ValueError
        return month_bounds(month)
    except ValueError:
        raise Invalid(f"month must be YYYY-MM, not {month[:20]!r}", month=month[:20]) from None


def report(ctx: Context, who: Principal, kind: str, month: str, community: str | None = None, lang: str = "zh") -> dict:
    """One report for ``month`` (``YYYY-MM``, Asia/Shanghai), all of ``who``'s communities or
    one. Keys and values stay machine-readable; ``labels`` (column -> header), ``title`` and
    ``definition`` are in ``lang`` (``zh`` default, or ``en``), which the renderers use too."""
    require(who, "report.read")
    if kind not in KINDS:
        raise Invalid(f"report must be one of {', '.join(KINDS)}", report=kind[:20])
    if lang not in labels.LANGS:
        raise Invalid(f"lang must be one of {', '.join(labels.LANGS)}", lang=lang[:20])
    if community is not None and not COMMUNITY.match(community):
        raise Invalid("community must be a community id (1-32 letters, digits, _ . -)", community=community[:40])
    allowed = scope_filter(who, community)
    start, end = bounds(month)
    with ctx.store.read() as db:  # one snapshot, read beside the writer
        out = _BUILDERS[kind](db, start, end, allowed, ctx.now()) if kind != "trend" else _trend(db, month, allowed)
    pair = labels.DEFINITIONS.get(kind)
    return ({"report": kind, "month": month, "community": community, "lang": lang, "title": labels.title(kind, lang)}
            | ({"definition": pair[labels.lang_of(lang)]} if pair else {})
            | out | {"labels": labels.headers(kind, out["columns"], lang)})


# ---------------------------------------------------------------- the board


def board_lines(db, start: int, end: int, communities: list[str] | None) -> dict[str, list[dict]]:
    by_comm: dict[str, list[dict]] = defaultdict(list)
    for r in q.earned(db, start, end, communities):
        by_comm[r["community"]].append(r)
    out = {}
    for comm, rows in by_comm.items():
        names = {r["card"]: r["name"] for r in rows}
        out[comm] = [{"rank": rk, "card": card, "name": mask_name(names[card]), "points": pts}
                     for rk, card, pts in rank((r["card"], r["points"]) for r in rows)]
    return out


def _board(db, start, end, allowed, now) -> dict:
    comms = {c["id"]: c["name"] for c in catalog.list_rows(db, "communities")}
    rows = []
    for comm, lines in sorted(board_lines(db, start, end, allowed).items()):
        rows += [{"community": comm, "community_name": comms.get(comm, comm), "rank": ln["rank"],
                  "name": ln["name"], "points": ln["points"]} for ln in lines]
    return {
        "columns": ["community", "community_name", "rank", "name", "points"],
        "rows": rows,
        "totals": {"ranked": len(rows), "points": sum(r["points"] for r in rows)},
    }


def publish_board(ctx: Context, who: Principal, month: str) -> dict:
    """Put every community's board for ``month`` in the feed (unchanged boards stay put)."""
    require(who, "board.publish")
    start, end = bounds(month)
    moved = 0
    with ctx.store.read() as db:  # the long part, outside the writer's lock
        lines = board_lines(db, start, end, None)
    with ctx.store.write() as db:
        now = ctx.now()
        for c in catalog.list_rows(db, "communities"):
            ranked = lines.get(c["id"], [])
            rec = BoardRec(community=c["id"], month=month, published=now, ranked=len(ranked),
                           top=[BoardLine(**ln) for ln in ranked[:BOARD_TOP]])
            old = catalog.feed_data(db, "board", FEEDS["board"].key(rec))
            if old and _same_board(old, rec):
                continue  # only 'published' would differ: keep the row where it is
            moved += feed.publish(db, "board", rec)
        if who.username != "system":
            record(db, ctx, who, "board_publish", month, {"moved": moved})
    return {"month": month, "communities_changed": moved}


def _same_board(old: bytes, new: BoardRec) -> bool:
    was = json.loads(bytes(old))
    now = codec.to_builtins(new)
    was.pop("published", None)
    now.pop("published", None)
    return was == now


def current_months(now: int) -> list[str]:
    """This local month and the one before (a board is still read after the 1st)."""
    this = local_month(now)
    start, _ = month_bounds(this)
    return [local_month(start - 1), this]


# ---------------------------------------------------------------- settlement


def _settlement(db, start, end, allowed, now) -> dict:
    rows, goods_rows = [], []
    for shop in catalog.list_rows(db, "shops"):
        if allowed is not None and shop["community"] not in allowed:
            continue
        flows = {"redeemed": 0, "voided": 0, "charged": 0, "other": 0}
        n_redeem = 0
        for r in q.shop_postings(db, shop["id"], start, end):
            settles_as = kinds.lookup(r["kind"]).settles_as  # redeemed, voided, charged or other
            flows[settles_as] += r["points"]
            if settles_as == "redeemed":
                n_redeem += r["n"]
        goods: dict[str, dict] = {}
        for kind, body, target in q.redemption_bodies(db, shop["id"], start, end):
            # a void of a redemption takes its lines back
            sign, lines = (-1, json.loads(target)["items"]) if kinds.lookup(kind).reverses else (1, json.loads(body)["items"])
            for ln in lines:
                g = goods.setdefault(ln["sku"], {"qty": 0, "points": 0})
                g["qty"] += sign * ln["qty"]
                g["points"] += sign * ln["qty"] * ln["price"]
        total = sum(flows.values())
        if not (total or goods or n_redeem) and shop["kind"] != "shop":
            continue
        rows.append({"shop": shop["id"], "shop_name": shop["name"], "community": shop["community"],
                     "redemptions": n_redeem, **flows, "total": total,
                     "goods_qty": sum(g["qty"] for g in goods.values())})
        goods_rows += [{"shop": shop["id"], "sku": sku, **g} for sku, g in sorted(goods.items())]
    return {
        "columns": ["shop", "shop_name", "community", "redemptions", "redeemed", "voided", "charged", "other", "total", "goods_qty"],
        "rows": rows,
        "goods": goods_rows,
        "totals": {k: sum(r[k] for r in rows) for k in ("redemptions", "redeemed", "voided", "charged", "other", "total", "goods_qty")},
    }


# ---------------------------------------------------------------- issued and spent


def _issued(db, start, end, allowed, now) -> dict:
    rows = _flows(db, start, end, allowed, {r["code"]: r for r in catalog.list_rows(db, "rules")})
    totals = defaultdict(int)
    for r in rows:
        totals[r["flow"]] += r["points"]
    return {"columns": ["community", "flow", "rule", "rule_name", "events", "points"], "rows": rows,
            "totals": {k: totals[k] for k in FLOWS}}


FLOWS = ("earned", "deducted", "spent", "corrected")


def _trend(db, month: str, allowed) -> dict:
    """Issued and spent over the ``TREND_MONTHS`` months ending with ``month``: rows by month,
    community, flow and rule, and ``series`` (one list per flow, a value per month) for charts."""
    months = [month]
    while len(months) < TREND_MONTHS:
        months.insert(0, local_month(month_bounds(months[0])[0] - 1))
    rules = {r["code"]: r for r in catalog.list_rows(db, "rules")}
    rows, series = [], {f: [] for f in FLOWS}
    for m in months:
        start, end = month_bounds(m)
        these = [{"month": m} | r for r in _flows(db, start, end, allowed, rules)]
        rows += these
        for f in FLOWS:
            series[f].append(sum(r["points"] for r in these if r["flow"] == f))
    return {"columns": ["month", "community", "flow", "rule", "rule_name", "events", "points"], "rows": rows,
            "series": {"months": months} | series, "totals": {f: sum(series[f]) for f in FLOWS}}


def _flows(db, start, end, allowed, rules: dict) -> list[dict]:
    """Resident-side points in [start, end) by community, flow and (where the flow says) rule."""
    acc: dict[tuple, dict] = {}
    for r in q.resident_flows(db, start, end):
        if allowed is not None and r["community"] not in allowed:
            continue
        # a void counts where its target does, with the sign its postings carry
        kind = kinds.lookup(r["target_kind"] if kinds.lookup(r["kind"]).reverses else r["kind"])
        flow, by_rule = kind.issued_flow(rules.get(r["rule"], {}).get("kind"))
        rule = r["rule"] if by_rule else None
        key = (r["community"], flow, rule)
        row = acc.setdefault(key, {"community": r["community"], "flow": flow, "rule": rule,
                                   "rule_name": rules[rule]["name"] if rule in rules else None, "events": 0, "points": 0})
        row["events"] += r["n"]
        row["points"] += r["points"]
    return sorted(acc.values(), key=lambda r: (r["community"], r["flow"], r["rule"] or ""))


# ---------------------------------------------------------------- coverage and kiosks


def _coverage(db, start, end, allowed, now) -> dict:
    rows = [dict(r, active=r["active"] or 0, retired=r["retired"] or 0) for r in q.coverage(db, start, end)
            if allowed is None or r["community"] in allowed]
    return {"columns": ["community", "name", "street", "residents", "active", "retired", "seen_this_month"], "rows": rows,
            "totals": {k: sum(r[k] for r in rows) for k in ("residents", "active", "retired", "seen_this_month")}}


def _kiosks(db, start, end, allowed, now) -> dict:
    rows = []
    for r in q.kiosk_rows(db, start, end):
        if allowed is not None and r["community"] not in allowed:
            continue
        chain = "fork" if r["forks"] else ("gap" if r["held_batches"] else "ok")
        seen = [t for t in (r["last_push_at"], r["last_pull_at"]) if t is not None]
        contact = max(seen) if seen else None
        rows.append(r | {
            "last_contact_at": contact,
            "silent_s": None if contact is None else (now - contact) // 1000,
            "revoked": r["status"] == "revoked",
            "chain": chain,
            "push_age_s": None if r["last_push_at"] is None else (now - r["last_push_at"]) // 1000,
            "pull_age_s": None if r["last_pull_at"] is None else (now - r["last_pull_at"]) // 1000,
        })
    cols = ["kiosk", "shop", "community", "label", "status", "revoked", "chain", "last_contact_at", "silent_s", "last_push_at", "push_age_s", "last_pull_at",
            "pull_age_s", "last_batch_lag_ms", "clock_skew_ms", "applied_batches", "held_batches", "batches_in_month",
            "quarantined", "forks", "open_reviews"]
    return {"columns": cols, "rows": rows,
            "totals": {"kiosks": len(rows), "revoked": sum(r["revoked"] for r in rows), "not_ok": sum(r["chain"] != "ok" for r in rows)}}


def shift_reports(db, start: int, end: int, allowed) -> list[dict]:
    """The shift reports kiosks sent in the window, each with its counted-vs-expected lines."""
    out = []
    for r in q.shift_closes(db, start, end):
        if allowed is not None and r["community"] not in allowed:
            continue
        ev = kinds.decode_event(bytes(r["body"]))
        counts = [{"sku": c.sku, "expected": c.expected, "counted": c.counted,
                   "diff": None if c.counted is None else c.counted - c.expected} for c in ev.counts]
        out.append({"id": r["id"], "kiosk": r["kiosk"], "shop": r["shop"], "community": r["community"], "closed_at": r["at"],
                    "operator": r["operator"], "first_kseq": ev.first_kseq, "events": ev.events, "awarded": ev.awarded,
                    "deducted": ev.deducted, "redeemed": ev.redeemed, "counts": counts})
    return out


def _shifts(db, start, end, allowed, now) -> dict:
    """Stock differences: one row per goods line counted at a shift close."""
    rows = [{k: s[k] for k in ("id", "kiosk", "shop", "closed_at", "operator")} | c
            for s in shift_reports(db, start, end, allowed) for c in s["counts"] if c["counted"] is not None]
    return {"columns": ["id", "kiosk", "shop", "closed_at", "operator", "sku", "expected", "counted", "diff"], "rows": rows,
            "totals": {"shifts": len({r["id"] for r in rows}), "lines": len(rows),
                       "differences": sum(r["diff"] != 0 for r in rows), "net_diff": sum(r["diff"] for r in rows)}}


def shifts(ctx: Context, who: Principal, month: str, community: str | None = None) -> dict:
    """GET /api/shifts: the shift reports kiosks sent in ``month``, with their counts."""
    require(who, "report.read")
    allowed = scope_filter(who, community)
    start, end = bounds(month)
    with ctx.store.read() as db:
        return {"month": month, "community": community, "shifts": shift_reports(db, start, end, allowed)}


_BUILDERS = {"board": _board, "settlement": _settlement, "issued": _issued, "coverage": _coverage, "kiosks": _kiosks,
             "shifts": _shifts, "voice": lambda db, start, end, allowed, now: voice.report_body(db, start, end, allowed)}
