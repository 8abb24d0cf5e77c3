"""Running the programme: residents (one at a time; a register import is
``server.services.register``), rules with effective dates, goods and prices, shops, communities, operators (a PIN
reset; goods and operators retired), kiosk revocation, listings. Every change is
permission-checked, written to the audit log in the same transaction, and moves the
entity's feed row, which is how it reaches the kiosks.

A rule change never rewrites the past: events carry the points they were recorded with.
A change with a future ``effective_at`` waits in ``rule_changes`` until ``apply_due``
(called by the server's periodic tick) puts it into ``rules`` and the feed.
"""

import os
import re
import secrets
import unicodedata

from server.errors import Invalid, NotFound
from server.reports.labels import refusal
from server.services import feed
from server.services.context import Context
from server.services.staff import Principal, record, require, scope_filter
from server.store import catalog, chain, ledger
from server.store import staff as store
from sync import codes
from sync.ledger import resident_account
from sync.passwords import hash_pin

CARD = re.compile(r"^[0-9A-Za-z]{4,32}$")
CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$")


def _code(kind: str, value: str | None) -> str:
    """The stored form of a code as staff typed or pasted it (``sync.codes``: full width,
    padding, letter case); text that is no such code stays as given for the checks below
    to refuse, with the shape they expect."""
    return codes.normalise_or_keep(kind, value)


def _id(value: str | None) -> str:
    """A shop or community id as typed: full width and padding gone, its case kept."""
    return codes.clean(value or "")


PHONE = re.compile(r"^[0-9]{7,15}$")
STATUSES = ("active", "retired")
RULE_FIELDS = ("name", "kind", "points", "cap_day", "cap_month", "status")


# ---------------------------------------------------------------- feed


def publish(db, kind: str, row: dict) -> None:
    """Move the feed row of one reference entity, from its table row (``schema.feeds``)."""
    feed.publish_rows(db, kind, [row])


def _upsert(db, table: str, row: dict) -> str:
    """Insert or update one reference row; 'added', 'updated' or 'unchanged'."""
    key = catalog.TABLES[table]
    old = catalog.row_by_key(db, table, row[key])
    if old is None:
        catalog.insert_row(db, table, row)
        return "added"
    if all(old.get(c) == v for c, v in row.items()):
        return "unchanged"
    catalog.update_row(db, table, row)
    return "updated"


# ---------------------------------------------------------------- residents


def resident_problem(db, row: dict, who: Principal) -> tuple[str, dict] | None:
    """Why a resident row cannot be accepted, as a code of ``server.reports.labels.REFUSALS``
    and the fields its words name; None when it can."""
    if not CARD.match(row.get("card") or ""):
        return "bad_card", {}
    if not 1 <= len(row.get("name") or "") <= 100:
        return "bad_name", {}
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in row["name"]):
        return "name_characters", {}
    if not PHONE.match(row.get("phone") or ""):
        return "bad_phone", {}
    if row.get("status") not in STATUSES:
        return "bad_status", {}
    if catalog.row_by_key(db, "communities", row.get("community") or "") is None:
        return "no_community", {"community": row.get("community") or ""}
    if not who.sees(row["community"]):
        return "not_your_community", {"community": row["community"]}
    old = catalog.row_by_key(db, "residents", row["card"])
    if old is not None and not who.sees(old["community"]):
        return "card_elsewhere", {"card": row["card"]}  # never say which
    return None


def put_resident(ctx: Context, who: Principal, card: str, name: str, phone: str, community: str, status: str = "active") -> dict:
    community = _id(community)
    require(who, "resident.write", community)
    card = _code("card", card)
    row = {"card": card, "name": (name or "").strip(), "phone": (phone or "").strip(), "community": community, "status": status}
    with ctx.store.write() as db:
        problem = resident_problem(db, row, who)
        if problem:
            raise Invalid(refusal(*problem, lang="en"), card=card[:40])
        outcome = _upsert(db, "residents", row)
        publish(db, "resident", row)
        record(db, ctx, who, "resident_put", card, {"outcome": outcome, "community": community, "status": status})
    return {"card": card, "outcome": outcome}


def get_resident(ctx: Context, who: Principal, card: str) -> dict:
    require(who, "resident.read")
    card = _code("card", card)
    with ctx.store.read() as db:
        row = catalog.row_by_key(db, "residents", card)
        # Someone else's resident looks exactly like no resident: existence is data too.
        if row is None or not who.sees(row["community"]):
            raise NotFound("resident", card)
        return row | {"confirmed": ledger.account_total(db, resident_account(card)),
                      "recent": ledger.recent_postings(db, resident_account(card), 20)}


def list_residents(ctx: Context, who: Principal, community: str | None = None, limit: int = 1000, after: str = "") -> list[dict]:
    require(who, "resident.read")
    allowed = scope_filter(who, community)
    with ctx.store.read() as db:
        return catalog.residents_matching(db, after, allowed, min(max(limit, 1), 10_000))


# ---------------------------------------------------------------- rules


def change_rule(ctx: Context, who: Principal, code: str, fields: dict, effective_at: int | None = None) -> dict:
    """Change (or create) a rule from ``effective_at`` on (now, when not given)."""
    require(who, "catalog.write")
    code = _code("rule", code)
    if not CODE.match(code or ""):
        raise Invalid("a rule code is 1-32 letters, digits, _ . -", rule=code[:40])
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise Invalid(f"unknown rule fields: {', '.join(sorted(unknown))}")
    now = ctx.now()
    when = now if effective_at is None else effective_at
    with ctx.store.write() as db:
        old = catalog.row_by_key(db, "rules", code)
        merged = (old or {"code": code, "cap_day": None, "cap_month": None, "status": "active"}) | fields
        _check_rule(merged, new=old is None)
        if old is not None and "kind" in fields and fields["kind"] != old["kind"]:
            raise Invalid("a rule's kind never changes: retire it and make a new rule", rule=code)
        if old is None and when > now:
            raise Invalid("a new rule starts now; schedule changes to it afterwards", rule=code)
        change = store.insert_rule_change(db, code, when, fields, who.username, now)
        record(db, ctx, who, "rule_change", code, {"fields": fields, "effective_at": when, "change": change})
        applied = _apply_due(db, now)
    return {"rule": code, "change": change, "effective_at": when, "applied": change in applied}


def _check_rule(r: dict, new: bool) -> None:
    if not 1 <= len(r.get("name") or "") <= 100:
        raise Invalid("a rule needs a name of 1-100 characters", rule=r["code"])
    if r.get("kind") not in ("basic", "encouraged", "prohibited"):
        raise Invalid("kind must be basic, encouraged or prohibited", rule=r["code"])
    pts = r.get("points")
    if not isinstance(pts, int) or isinstance(pts, bool) or abs(pts) > 1_000_000:
        raise Invalid("points must be an integer within ±1,000,000", rule=r["code"])
    if (r["kind"] == "prohibited") != (pts < 0) or pts == 0:
        raise Invalid("a prohibited rule deducts (points < 0); the others award (points > 0)", rule=r["code"])
    for cap in ("cap_day", "cap_month"):
        if r.get(cap) is not None and (not isinstance(r[cap], int) or r[cap] < 1):
            raise Invalid(f"{cap} is a positive integer or null", rule=r["code"])
    if r.get("status") not in STATUSES:
        raise Invalid("status must be active or retired", rule=r["code"])


def _apply_due(db, now: int) -> list[int]:
    applied = []
    for ch in store.due_rule_changes(db, now):
        old = catalog.row_by_key(db, "rules", ch["code"])
        row = (old or {"code": ch["code"], "cap_day": None, "cap_month": None, "status": "active"}) | ch["fields"]
        _upsert(db, "rules", {k: row[k] for k in ("code", *RULE_FIELDS)})
        publish(db, "rule", catalog.row_by_key(db, "rules", ch["code"]))
        store.mark_rule_change_applied(db, ch["id"], now)
        applied.append(ch["id"])
    return applied


def apply_due(ctx: Context) -> int:
    """Put rule changes whose time has come into effect (the server's periodic tick)."""
    with ctx.store.write() as db:
        return len(_apply_due(db, ctx.now()))


def rule_history(ctx: Context, who: Principal, code: str) -> list[dict]:
    """Every change made to a rule, in the order made: applied ones and those still waiting."""
    require(who, "report.read")
    code = _code("rule", code)
    with ctx.store.read() as db:
        changes = store.rule_changes_of(db, code)
        if not changes and catalog.row_by_key(db, "rules", code) is None:
            raise NotFound("rule", code[:40])
        return changes


# ---------------------------------------------------------------- goods, shops, operators, kiosks


def put_good(ctx: Context, who: Principal, sku: str, name: str, unit: str, price: int, status: str = "active") -> dict:
    require(who, "catalog.write")
    sku = _code("sku", sku)
    if not CODE.match(sku or ""):
        raise Invalid(f"not a SKU: {sku[:40]!r} (a SKU is {codes.KINDS['sku'].shape})", sku=sku[:40])
    if not 1 <= len(name or "") <= 100 or not 1 <= len(unit or "") <= 20:
        raise Invalid("a good needs a name (1-100 characters) and a unit (1-20)", sku=sku)
    if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= 1_000_000:
        raise Invalid("price is a whole number of points, 0-1,000,000", sku=sku)
    if status not in STATUSES:
        raise Invalid("status must be active or retired", sku=sku)
    row = {"sku": sku, "name": name, "unit": unit, "price": price, "status": status}
    return _put(ctx, who, "goods", "good", row, sku)


def retire_good(ctx: Context, who: Principal, sku: str) -> dict:
    """Take a good off the shelves: kiosks stop offering it; what was redeemed stays."""
    require(who, "catalog.write")
    return _retire(ctx, who, "goods", "good", _code("sku", sku))


def put_shop(ctx: Context, who: Principal, shop_id: str, name: str, community: str, kind: str) -> dict:
    require(who, "catalog.write")
    shop_id, community = _id(shop_id), _id(community)
    if not CODE.match(shop_id or "") or not 1 <= len(name or "") <= 100 or kind not in ("shop", "station"):
        raise Invalid("a shop needs an id code, a name (1-100) and kind shop or station", shop=(shop_id or "")[:40])
    row = {"id": shop_id, "name": name, "community": community, "kind": kind}
    return _put(ctx, who, "shops", "shop", row, shop_id, community=community)


def put_community(ctx: Context, who: Principal, community: str, name: str, street: str) -> dict:
    require(who, "catalog.write")
    community = _id(community)
    if not CODE.match(community or "") or not 1 <= len(name or "") <= 100:
        raise Invalid("a community needs an id code and a name (1-100)", community=(community or "")[:40])
    return _put(ctx, who, "communities", "community", {"id": community, "name": name, "street": street or ""}, community)


def put_operator(ctx: Context, who: Principal, op_id: str, shop: str, name: str, role: str = "operator",
                 pin: str | None = None, status: str = "active") -> dict:
    require(who, "catalog.write")
    op_id, shop = _code("operator", op_id), _id(shop)
    if not CODE.match(op_id or ""):
        raise Invalid(f"not an operator id: {op_id[:40]!r} (an operator id is {codes.KINDS['operator'].shape})", operator=op_id[:40])
    if not 1 <= len(name or "") <= 100 or role not in ("operator", "supervisor") or status not in STATUSES:
        raise Invalid("an operator needs a name (1-100 characters), role operator or supervisor, status active or retired", operator=op_id)
    pin_hash = _pin_hash(pin, op_id) if pin is not None else None
    with ctx.store.read() as db:
        old = catalog.row_by_key(db, "operators", op_id)
    if pin_hash is None:
        if old is None:
            raise Invalid("a new operator needs a PIN (4-8 digits)", operator=op_id)
        pin_hash = old["pin_hash"]
    if old is not None and old["shop"] != shop:
        # The feed row is scoped to one shop: moving it would leave the old shop's kiosks
        # holding a live copy they are never told to drop.
        raise Invalid("an operator's shop never changes: retire this one and add a new operator id", operator=op_id)
    row = {"id": op_id, "shop": shop, "name": name, "role": role, "pin_hash": pin_hash, "status": status}
    return _put(ctx, who, "operators", "operator", row, op_id, audit={"shop": shop, "role": role, "status": status, "pin_changed": pin is not None})


def reset_operator_pin(ctx: Context, who: Principal, op_id: str, pin: str | None = None) -> dict:
    """Give an operator a new PIN (a forgotten or seen one): ``pin``, or 6 random digits
    returned once. Their shop's kiosks check the new one from their next pull on."""
    require(who, "catalog.write")
    op_id = _code("operator", op_id)
    generated = pin is None
    if generated:
        pin = "".join(secrets.choice("0123456789") for _ in range(6))
    pin_hash = _pin_hash(pin, op_id)  # scrypt: before the write lock
    with ctx.store.write() as db:
        old = catalog.row_by_key(db, "operators", op_id)
        if old is None:
            raise NotFound("operator", op_id[:40])
        row = old | {"pin_hash": pin_hash}
        catalog.update_row(db, "operators", row)
        publish(db, "operator", row)
        record(db, ctx, who, "operator_pin", op_id, {"shop": old["shop"], "generated": generated})
    return {"operator": op_id, "shop": old["shop"]} | ({"pin": pin} if generated else {})


def retire_operator(ctx: Context, who: Principal, op_id: str) -> dict:
    """An operator who has left: their shop's kiosks refuse their sign-in from the next pull on."""
    require(who, "catalog.write")
    return _retire(ctx, who, "operators", "operator", _code("operator", op_id))


def _pin_hash(pin: str, op_id: str) -> str:
    pin = codes.clean(pin)  # digits typed full width are digits
    if not re.fullmatch(r"[0-9]{4,8}", pin):
        raise Invalid("a PIN is 4-8 digits", operator=op_id)
    return hash_pin(pin, os.urandom(16))


def _put(ctx: Context, who: Principal, table: str, kind: str, row: dict, key: str, community: str | None = None, audit: dict | None = None) -> dict:
    with ctx.store.write() as db:
        if community is not None and catalog.row_by_key(db, "communities", community) is None:
            raise NotFound("community", community)
        if "shop" in row and catalog.row_by_key(db, "shops", row["shop"]) is None:
            raise NotFound("shop", row["shop"])
        outcome = _upsert(db, table, row)
        publish(db, kind, row)
        record(db, ctx, who, f"{kind}_put", key, {"outcome": outcome} | (audit if audit is not None else row))
    return {kind: key, "outcome": outcome}


def _retire(ctx: Context, who: Principal, table: str, kind: str, key: str) -> dict:
    """Set one reference row's status to retired, move its feed row, audit it: one transaction."""
    with ctx.store.write() as db:
        old = catalog.row_by_key(db, table, key)
        if old is None:
            raise NotFound(kind, key[:40])
        row = old | {"status": "retired"}
        catalog.update_row(db, table, row)
        publish(db, kind, row)
        record(db, ctx, who, f"{kind}_retire", key, {"was": old["status"]})
    return {kind: key, "status": "retired", "was": old["status"]}


def revoke_kiosk(ctx: Context, who: Principal, kiosk: str) -> dict:
    """Mark a kiosk revoked: its pushes are quarantined, its pulls say so and carry no lease."""
    require(who, "kiosk.manage")
    kiosk = _code("kiosk", kiosk)
    with ctx.store.write() as db:
        row = chain.kiosk_by_id(db, kiosk)
        if row is None:
            raise NotFound("kiosk", kiosk)
        chain.set_kiosk_status(db, kiosk, "revoked")
        record(db, ctx, who, "kiosk_revoke", kiosk, {"was": row["status"]})
    return {"kiosk": kiosk, "status": "revoked", "was": row["status"]}


# ---------------------------------------------------------------- listings

LISTABLE = ("shops", "rules", "goods", "residents", "operators", "kiosks", "communities")


def list_reference(ctx: Context, who: Principal, what: str) -> list[dict]:
    """Every row of one reference table (or the kiosks); residents within ``who``'s scope."""
    if what not in LISTABLE:
        raise Invalid(f"cannot list {what}; choose from {', '.join(LISTABLE)}", what=what[:40])
    require(who, "resident.read" if what == "residents" else "report.read")
    with ctx.store.read() as db:
        rows = catalog.list_rows(db, what)
    if what == "residents" and who.communities is not None:
        rows = [r for r in rows if who.sees(r["community"])]
    if what == "operators":
        for r in rows:
            r.pop("pin_hash", None)  # a PIN hash is for kiosks, not for screens and logs
    return rows
