"""Reports for central staff and the public: the monthly board, shop settlement, points
issued and spent, coverage and kiosk health. Each is a dict with ``columns`` and ``rows``
(so one renderer makes CSV and HTML of any of them) plus ``totals``.

Settlement ties out by construction and by test: a shop's ``total`` is the sum of the
postings to ``shop:<id>`` in the month (redeemed − voided − charged).

The board also goes to kiosks through pull: one feed row per community-month (kind
``board``, key ``<community>/<month>``), holding the top ``BOARD_TOP`` lines.
"""

import json
from collections import defaultdict

from schema.feeds import FEEDS
from schema.wire import BoardLine, BoardRec
from server.errors import Invalid
from server.services import feed
from server.services.context import Context
from server.services.staff import Principal, record, require, scope_filter
from server.store import catalog
from server.store import reports as q
from sync import codec, kinds
from sync.board import mask_name, rank
from sync.calendar import local_month, month_bounds

KINDS = ("board", "settlement", "issued", "coverage", "kiosks", "shifts")
BOARD_TOP = 50


def bounds(month: str) -> tuple[int, int]:
    try:
        year, mon = month.split("-")
        if len(year) != 4 or len(mon) != 2 or not 1 <= int(mon) <= 12:
            raise ValueError
        return month_bounds(month)
    except ValueError:
        raise Invalid(f"month must be YYYY-MM, not {month[:20]!r}", month=month[:20]) from None


def report(ctx: Context, who: Principal, kind: str, month: str, community: str | None = None) -> dict:
    require(who, "report.read")
    if kind not in KINDS:
        raise Invalid(f"report must be one of {', '.join(KINDS)}", report=kind)
    allowed = scope_filter(who, community)
    start, end = bounds(month)
    with ctx.store.read() as db:  # one snapshot, read beside the writer
        out = _BUILDERS[kind](db, start, end, allowed, ctx.now())
    return {"report": kind, "month": month, "community": community} | out


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
        "title": "积分榜 monthly points board",
        "definition": "points earned in the month: awards minus deductions (voided ones removed); redemptions and corrections do not count",
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
    rules = {r["code"]: r for r in catalog.list_rows(db, "rules")}
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
    rows = sorted(acc.values(), key=lambda r: (r["community"], r["flow"], r["rule"] or ""))
    totals = defaultdict(int)
    for r in rows:
        totals[r["flow"]] += r["points"]
    return {"columns": ["community", "flow", "rule", "rule_name", "events", "points"], "rows": rows,
            "totals": {k: totals[k] for k in ("earned", "deducted", "spent", "corrected")}}


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
        rows.append(r | {
            "revoked": r["status"] == "revoked",
            "chain": chain,
            "push_age_s": None if r["last_push_at"] is None else (now - r["last_push_at"]) // 1000,
            "pull_age_s": None if r["last_pull_at"] is None else (now - r["last_pull_at"]) // 1000,
        })
    cols = ["kiosk", "shop", "community", "label", "status", "revoked", "chain", "last_push_at", "push_age_s", "last_pull_at",
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
             "shifts": _shifts}
