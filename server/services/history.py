"""A resident's history: "where did my points go?" — every posting to the resident's
account across all shops, stations and central adjustments, in the order the ledger
applied them, each with the running balance (so the last one is the balance), the
event id its receipt prints (单号), and the resident's open review items.

Language-neutral data (codes, names, numbers, times): the console writes it in words; the
kiosk's signed lookup can reuse it. Scoped like ``manage.get_resident``: another
community's resident is ``NotFound``, as if there were none.
"""

import json
import re

from schema.types import CENTRAL_KIOSK
from server.errors import NotFound
from server.services.context import Context
from server.services.staff import Principal, require
from server.store import Tx, catalog, ledger
from sync import codes
from sync.ledger import resident_account

#: the entries a page shows, newest first (the running balance still folds every posting)
SHOWN = 100


def resident_history(ctx: Context, who: Principal, card: str, shown: int = SHOWN, before: int | None = None) -> dict:
    """The resident, their balance (the fold of every posting), how many entries there are
    in all, and a page of ``shown`` entries, newest first, below posting ``before`` (the
    newest, when None), each with the balance it leaves; ``next_before``: where the next
    page starts (None at the oldest). A page costs its own rows plus one sum over the
    resident's postings, however long the history."""
    require(who, "resident.read")
    card = codes.normalise_or_keep("card", card)
    with ctx.store.read() as db:
        return read_history(db, _resident(db, who, card), shown, before)


def read_history(db: Tx, resident: dict, shown: int = SHOWN, before: int | None = None) -> dict:
    """The page of ``resident``'s history (its ``residents`` row) inside the caller's
    transaction, for a use case that has already decided the reader may see it (the
    console's, above; a kiosk's signed request, ``server.services.lookup``)."""
    card = resident["card"]
    account = resident_account(card)
    total, count = ledger.account_total_and_count(db, account)
    rows = ledger.resident_entries_page(db, account, before, shown + 1)
    more = len(rows) > shown
    rows = rows[:shown]
    # the balance after the page's newest entry: everything up to and including it
    balance = total - (ledger.account_sum_after(db, account, rows[0]["posting"]) if rows and before is not None else 0)
    reviews = ledger.reviews_of_resident(db, card)
    community = catalog.row_by_key(db, "communities", resident["community"])
    names = _names(db, rows)
    entries = []
    for r in rows:  # newest first: each entry leaves ``balance``; the one below it left that less its points
        entries.append(_entry(r, balance, names))
        balance -= r["amount"]
    return {
        "resident": resident | {"community_name": community["name"] if community else resident["community"]},
        "balance": total,
        "count": count,
        "entries": entries,
        "first": before is None,
        "next_before": rows[-1]["posting"] if more else None,
        "open_reviews": [{k: r[k] for k in ("id", "kind", "created_at", "event", "kiosk", "shop", "detail")} for r in reviews],
    }


def entries_of(ctx: Context, who: Principal, card: str, events: list[str]) -> dict:
    """The resident's name and balance, and their entries for ``events`` (a review item's
    evidence) by event id, each with the balance it left: seeks on those events only."""
    require(who, "resident.read")
    card = codes.normalise_or_keep("card", card)
    with ctx.store.read() as db:
        resident = _resident(db, who, card)
        account = resident_account(card)
        rows = ledger.resident_entries_of(db, account, events)
        names = _names(db, rows)
        left = {r["posting"]: ledger.account_sum_through(db, account, r["posting"]) for r in rows}
        total = ledger.account_total(db, account)
    return {"resident": resident, "balance": total,
            "entries": {r["event"]: _entry(r, left[r["posting"]], names) for r in rows}}


def _resident(db, who: Principal, card: str) -> dict:
    resident = catalog.row_by_key(db, "residents", card)
    if resident is None or not who.sees(resident["community"]):
        raise NotFound("resident", card)
    return resident


def _names(db, rows: list[dict]) -> dict:
    """Shop, rule, goods and operator names the rows mention, by table and key."""
    out: dict[str, dict[str, str]] = {"shops": {}, "rules": {}, "goods": {}, "operators": {}}
    for r in rows:
        body = json.loads(bytes(r["body"]))
        wanted = [("shops", r["shop"]), ("shops", body.get("shop")), ("rules", body.get("rule")),
                  ("operators", r["operator"] if r["kiosk"] != CENTRAL_KIOSK else None)]
        wanted += [("goods", i.get("sku")) for i in body.get("items", [])]
        for table, key in wanted:
            if key and key not in out[table]:
                row = catalog.row_by_key(db, table, key)
                out[table][key] = row["name"] if row else key
        r["body_obj"] = body
    return out


def _entry(r: dict, balance: int, names: dict) -> dict:
    body = r["body_obj"]
    central = r["kiosk"] == CENTRAL_KIOSK
    shop = r["shop"] or body.get("shop")
    out = {
        "event": r["event"], "kind": r["kind"], "at": r["at"], "received_at": r["received_at"],
        "points": r["amount"], "balance": balance, "kiosk": r["kiosk"], "central": central,
        "shop": shop, "shop_name": names["shops"].get(shop) if shop else None,
        "by": body.get("staff") if central else r["operator"],
        "by_name": None if central else names["operators"].get(r["operator"]),
        "receipt": None if central else r["event"],  # the 单号 its receipt prints
        "voided_by": r["voided_by"],
    }
    if "rule" in body:
        out |= {"rule": body["rule"], "rule_name": names["rules"].get(body["rule"])}
    if "items" in body:
        out["items"] = [{"sku": i["sku"], "name": names["goods"].get(i["sku"]), "qty": i["qty"], "price": i.get("price")}
                        for i in body["items"]]
    for k in ("target", "reason", "against", "review", "note"):
        if body.get(k) not in (None, ""):
            out[k] = body[k]
    if "review" in out and "reason" in out:
        out |= _resolution_reason(out["reason"], out["review"])
    if "target" in out:
        out["target_receipt"] = out["target"]
    return out


_REVIEW_REASON = re.compile(r"^review (\d+): (.*?)(?: \(approved by ([\w.-]+)\))?$", re.S)


def _resolution_reason(reason: str, review: int) -> dict:
    """A resolution's reason as ``review.central_event`` signs it (``review N: note``, and
    ``(approved by X)``) split into the note and the approver, so a page words them itself."""
    m = _REVIEW_REASON.match(reason)
    if not m or int(m.group(1)) != review:
        return {}
    return {"reason": m.group(2)} | ({"approved_by": m.group(3)} if m.group(3) else {})
