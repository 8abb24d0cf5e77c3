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

from schema.feeds import DEFAULT_COUNTY, FEEDS
from schema.wire import BoardLine, BoardRec
from server.errors import Invalid, NotFound
from server.reports import labels
from server.services import feed, voice
from server.services.context import Context
from server.services.staff import Principal, record, require, scope_filter
from server.store import catalog
from server.store import reports as q
from sync import codec, kinds
from sync.board import board_name, mask_name, rank
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


def report(ctx: Context, who: Principal, kind: str, month: str, community: str | None = None, lang: str = "zh",
           window: tuple[int, int] | None = None) -> dict:
    """One report for ``month`` (``YYYY-MM``, Asia/Shanghai), all of ``who``'s communities or
    one. Keys and values stay machine-readable; ``labels`` (column -> header), ``title`` and
    ``definition`` are in ``lang`` (``zh`` default, or ``en``), which the renderers use too.
    ``window`` (offset, count): only those rows (a page of a table), with ``row_count``
    saying how many there are in all; the board reads only them."""
    require(who, "report.read")
    if kind not in KINDS:
        raise Invalid(f"report must be one of {', '.join(KINDS)}", report=kind[:20])
    if lang not in labels.LANGS:
        raise Invalid(f"lang must be one of {', '.join(labels.LANGS)}", lang=lang[:20])
    allowed = _scope(who, community)
    bounds(month)
    caught_up(ctx)
    with ctx.store.read() as db:  # one snapshot, read beside the writer
        if kind in ("board", "shifts"):  # these read only the window's rows
            out = _BUILDERS[kind](db, month, allowed, ctx.now(), window)
        else:
            out = _BUILDERS[kind](db, month, allowed, ctx.now()) if kind != "trend" else _trend(db, month, allowed)
            out["row_count"] = len(out["rows"])
            if window is not None:
                out["rows"] = out["rows"][window[0]:window[0] + window[1]]
    pair = labels.DEFINITIONS.get(kind)
    return ({"report": kind, "month": month, "community": community, "lang": lang, "title": labels.title(kind, lang)}
            | ({"definition": pair[labels.lang_of(lang)]} if pair else {})
            | out | {"labels": labels.headers(kind, out["columns"], lang)})


def _scope(who: Principal, community: str | None) -> list[str] | None:
    if community is not None and not COMMUNITY.match(community):
        raise Invalid("community must be a community id (1-32 letters, digits, _ . -)", community=community[:40])
    return scope_filter(who, community)


def caught_up(ctx: Context) -> None:
    """The month sums hold every posting stored (``store.reports.catch_up``): a write only
    when postings came in since the last catch-up, then in those postings only."""
    with ctx.store.read() as db:
        if not q.sums_behind(db):
            return
    with ctx.store.write() as db:
        q.catch_up(db)


# ---------------------------------------------------------------- the board


def _lines(rows) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for comm, rk, card, name, pts in rows:
        out[comm].append({"rank": rk, "card": card, "name": mask_name(name), "points": pts})
    return out


def _board(db, month, allowed, now, window: tuple[int, int] | None = None) -> dict:
    """The boards of ``allowed``'s communities, every line or those of ``window`` (offset,
    count): the ranks come ranked from the month sums (``store.reports.board``)."""
    comms = {c["id"]: c["name"] for c in catalog.list_rows(db, "communities")}
    counts = q.board_counts(db, month, allowed)
    offset, limit = window or (0, -1)
    rows = [{"community": comm, "community_name": comms.get(comm, comm), "rank": rk,
             "name": board_name(name, card), "points": pts}
            for comm, rk, card, name, pts in q.board(db, month, allowed, offset, limit)]
    return {
        "columns": ["community", "community_name", "rank", "name", "points"],
        "rows": rows,
        "row_count": sum(n for n, _ in counts.values()),
        "totals": {"ranked": sum(n for n, _ in counts.values()), "points": sum(p for _, p in counts.values())},
    }


def publish_board(ctx: Context, who: Principal, month: str) -> dict:
    """Put every community's board for ``month`` in the feed (unchanged boards stay put)."""
    require(who, "board.publish")
    bounds(month)
    moved = 0
    caught_up(ctx)
    with ctx.store.read() as db:  # the long part, outside the writer's lock
        lines = _lines(q.board_top(db, month, BOARD_TOP))
        counts = q.board_counts(db, month, None)
    with ctx.store.write() as db:
        now = ctx.now()
        counties = catalog.community_counties(db)
        for c in catalog.list_rows(db, "communities"):
            rec = BoardRec(community=c["id"], month=month, published=now, ranked=counts.get(c["id"], (0, 0))[0],
                           top=[BoardLine(**ln) for ln in lines.get(c["id"], [])[:BOARD_TOP]])
            old = catalog.feed_data(db, "board", FEEDS["board"].key(rec))
            if old and _same_board(old, rec):
                continue  # only 'published' would differ: keep the row where it is
            moved += feed.publish(db, "board", rec, counties.get(c["id"], DEFAULT_COUNTY))  # its county's kiosks
        if who.username != "system":
            record(db, ctx, who, "board_publish", month, {"moved": moved})
    return {"month": month, "communities_changed": moved}


def _same_board(old: bytes, new: BoardRec) -> bool:
    was = json.loads(bytes(old))
    now = codec.to_builtins(new)
    was.pop("published", None)
    now.pop("published", None)
    return was == now


# ---------------------------------------------------------------- the published boards (public)


def published_boards(ctx: Context) -> list[dict]:
    """What the public index lists, no sign-in: every community with a published board,
    and its published months, newest first. Published means in the feed: what
    ``publish_board`` (or the tick's refresh of this and last month) put there."""
    with ctx.store.read() as db:
        keys = catalog.feed_keys(db, "board")
        names = {c["id"]: c["name"] for c in catalog.list_rows(db, "communities")}
    months: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        community, _, month = key.partition("/")
        months[community].append(month)
    return [{"community": c, "name": names.get(c, c), "months": sorted(ms, reverse=True)} for c, ms in sorted(months.items())]


def community_name(ctx: Context, community: str) -> str:
    """A community's name, or its id when there is no such community."""
    with ctx.store.read() as db:
        row = catalog.row_by_key(db, "communities", community)
    return row["name"] if row else community


def published_board(ctx: Context, community: str, month: str) -> dict:
    """One community's published board for ``month``, as anyone may read it: the top lines
    with their residents named by ``sync.board.board_name`` (masked, told apart by the
    card's last four), never the card or the name. ``Invalid`` for a month that is not
    ``YYYY-MM`` or a malformed community id; ``NotFound`` for an unknown community
    (``community``) or a month with no published board (``board``)."""
    bounds(month)
    if not COMMUNITY.match(community):
        raise Invalid("community must be a community id (1-32 letters, digits, _ . -)", community=community[:40])
    with ctx.store.read() as db:
        comm = catalog.row_by_key(db, "communities", community)
        data = catalog.feed_data(db, "board", f"{community}/{month}")
    if comm is None:
        raise NotFound("community", community)
    if data is None:
        raise NotFound("board", f"{community}/{month}")
    rec = codec.decode(bytes(data), BoardRec)
    return {"community": community, "community_name": comm["name"], "month": month, "published": rec.published,
            "ranked": rec.ranked,
            "lines": [{"rank": ln.rank, "name": board_name(ln.name, ln.card), "points": ln.points} for ln in rec.top]}


def current_months(now: int) -> list[str]:
    """This local month and the one before (a board is still read after the 1st)."""
    this = local_month(now)
    start, _ = month_bounds(this)
    return [local_month(start - 1), this]


# ---------------------------------------------------------------- settlement


def _settlement(db, month, allowed, now) -> dict:
    rows, goods_rows = [], []
    postings, handed_out = q.shop_postings(db, month), q.goods_handed_out(db, month)
    for shop in catalog.list_rows(db, "shops"):
        if allowed is not None and shop["community"] not in allowed:
            continue
        flows = {"redeemed": 0, "voided": 0, "charged": 0, "other": 0}
        n_redeem = 0
        for r in postings.get(shop["id"], []):
            settles_as = kinds.lookup(r["kind"]).settles_as  # redeemed, voided, charged or other
            flows[settles_as] += r["points"]
            if settles_as == "redeemed":
                n_redeem += r["n"]
        goods = {g["sku"]: {"qty": g["qty"], "points": g["points"]} for g in handed_out.get(shop["id"], [])}
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


def _issued(db, month, allowed, now) -> dict:
    rows = _flows(db, month, allowed, {r["code"]: r for r in catalog.list_rows(db, "rules")})
    totals = defaultdict(int)
    for r in rows:
        totals[r["flow"]] += r["points"]
    return {"columns": ["community", "flow", "rule", "rule_name", "events", "points"], "rows": rows,
            "totals": {k: totals[k] for k in FLOWS}}


FLOWS = ("earned", "deducted", "spent", "corrected")


def _trend(db, month: str, allowed) -> dict:
    """Issued and spent over the ``TREND_MONTHS`` months ending with ``month``: rows by month,
    community, flow and rule, and ``series`` (one list per flow, a value per month) for charts."""
    months = trend_months(month)
    rules = {r["code"]: r for r in catalog.list_rows(db, "rules")}
    rows, series = [], {f: [] for f in FLOWS}
    for m in months:
        these = [{"month": m} | r for r in _flows(db, m, allowed, rules)]
        rows += these
        for f in FLOWS:
            series[f].append(sum(r["points"] for r in these if r["flow"] == f))
    return {"columns": ["month", "community", "flow", "rule", "rule_name", "events", "points"], "rows": rows,
            "series": {"months": months} | series, "totals": {f: sum(series[f]) for f in FLOWS}}


def trend_months(month: str) -> list[str]:
    """The ``TREND_MONTHS`` months ending with ``month``, oldest first."""
    months = [month]
    while len(months) < TREND_MONTHS:
        months.insert(0, local_month(month_bounds(months[0])[0] - 1))
    return months


def trend_series(ctx: Context, who: Principal, month: str, community: str | None = None) -> dict:
    """The trend's ``series`` alone (for a chart): a value per flow per month, the month
    sums added up by SQL rather than row by row."""
    require(who, "report.read")
    allowed = _scope(who, community)
    bounds(month)
    caught_up(ctx)
    months = trend_months(month)
    series = {f: [0] * len(months) for f in FLOWS}
    with ctx.store.read() as db:
        rules = {r["code"]: r for r in catalog.list_rows(db, "rules")}
        for r in q.flows_by_month(db, months[0], months[-1], allowed):
            series[_flow_of(r, rules)[0]][months.index(r["month"])] += r["points"]
    return {"months": months} | series


def _flow_of(r: dict, rules: dict) -> tuple[str, str | None]:
    """(flow, rule or None) of a row of month sums: a void counts where its target does,
    with the sign its postings carry."""
    kind = kinds.lookup(r["target_kind"] if kinds.lookup(r["kind"]).reverses else r["kind"])
    flow, by_rule = kind.issued_flow(rules.get(r["rule"], {}).get("kind"))
    return flow, r["rule"] if by_rule else None


def _flows(db, month: str, allowed, rules: dict) -> list[dict]:
    """Resident-side points in the month by community, flow and (where the flow says) rule."""
    acc: dict[tuple, dict] = {}
    for r in q.resident_flows(db, month):
        if allowed is not None and r["community"] not in allowed:
            continue
        flow, rule = _flow_of(r, rules)
        key = (r["community"], flow, rule)
        row = acc.setdefault(key, {"community": r["community"], "flow": flow, "rule": rule,
                                   "rule_name": rules[rule]["name"] if rule in rules else None, "events": 0, "points": 0})
        row["events"] += r["n"]
        row["points"] += r["points"]
    return sorted(acc.values(), key=lambda r: (r["community"], r["flow"], r["rule"] or ""))


# ---------------------------------------------------------------- coverage and kiosks


def _coverage(db, month, allowed, now) -> dict:
    rows = [dict(r, active=r["active"] or 0, retired=r["retired"] or 0) for r in q.coverage(db, month)
            if allowed is None or r["community"] in allowed]
    return {"columns": ["community", "name", "street", "residents", "active", "retired", "seen_this_month"], "rows": rows,
            "totals": {k: sum(r[k] for r in rows) for k in ("residents", "active", "retired", "seen_this_month")}}


def _kiosks(db, month, allowed, now) -> dict:
    start, end = month_bounds(month)
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


def _shifts(db, month, allowed, now, window: tuple[int, int] | None = None) -> dict:
    """Stock differences: one row per goods line counted at a shift close (those of
    ``window``, offset and count, or all), from the shift counts kept as reports are stored."""
    start, end = month_bounds(month)
    places = q.kiosk_places(db)
    kiosks = None if allowed is None else sorted(k for k, (_, comm) in places.items() if comm in allowed)
    offset, limit = window or (0, -1)
    rows = [{"id": ev, "kiosk": kiosk, "shop": places[kiosk][0] if kiosk in places else None, "closed_at": at, "operator": op,
             "sku": sku, "expected": expected, "counted": counted, "diff": counted - expected}
            for ev, kiosk, at, op, sku, expected, counted in q.shift_lines(db, start, end, kiosks, offset, limit)]
    totals = q.shift_totals(db, start, end, kiosks)
    return {"columns": ["id", "kiosk", "shop", "closed_at", "operator", "sku", "expected", "counted", "diff"], "rows": rows,
            "row_count": totals["lines"], "totals": totals}


def shifts(ctx: Context, who: Principal, month: str, community: str | None = None) -> dict:
    """GET /api/shifts: the shift reports kiosks sent in ``month``, with their counts."""
    require(who, "report.read")
    allowed = scope_filter(who, community)
    start, end = bounds(month)
    with ctx.store.read() as db:
        return {"month": month, "community": community, "shifts": shift_reports(db, start, end, allowed)}


_BUILDERS = {"board": _board, "settlement": _settlement, "issued": _issued, "coverage": _coverage, "kiosks": _kiosks,
             "shifts": _shifts, "voice": lambda db, month, allowed, now: voice.report_body(db, *month_bounds(month), allowed)}
