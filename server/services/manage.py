"""Running the programme: residents (one at a time; a register import is
``server.services.register``), rules with effective dates, goods and prices, shops, communities, operators (a PIN
reset; goods and operators retired), kiosk revocation, listings (counties: ``server.services.counties``). Every change is
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
from server.services.staff import SYSTEM, Principal, record, require, scope_filter
from server.store import catalog, chain, ledger
from server.store import staff as store
from sync import codes
from sync.ledger import resident_account
from sync.names import first_bad_character, name_problem
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


def check_name(text, what: str, max_len: int = 100, *, required: bool = True, **detail) -> None:
    """Refuse a name with control characters, bidi controls or bytes that were not UTF-8
    (``sync.names``: the one check for every entry point)."""
    problem = name_problem(text, what, max_len, required=required)
    if problem:
        raise Invalid(problem, **detail)


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


def resident_problem(db, row: dict, who: Principal, known=None) -> tuple[str, dict] | None:
    """Why a resident row cannot be accepted, as a code of ``server.reports.labels.REFUSALS``
    and the fields its words name; None when it can. ``known(table, key)``: how the
    community and the resident are looked up (default: one query each; an import passes
    rows it read in bulk)."""
    known = known or (lambda table, key: catalog.row_by_key(db, table, key))
    if not CARD.match(row.get("card") or ""):
        return "bad_card", {}
    if not 1 <= len(row.get("name") or "") <= 100:
        return "bad_name", {}
    if (bad := first_bad_character(row["name"])) is not None:
        return "name_characters", {"pos": bad[0] + 1, "code": f"{ord(bad[1]):04X}", "kind": bad[2]}
    if not PHONE.match(row.get("phone") or ""):
        return "bad_phone", {}
    if row.get("status") not in STATUSES:
        return "bad_status", {}
    if known("communities", row.get("community") or "") is None:
        return "no_community", {"community": row.get("community") or ""}
    if not who.sees(row["community"]):
        return "not_your_community", {"community": row["community"]}
    old = known("residents", row["card"])
    if old is not None and not who.sees(old["community"]):
        return "card_elsewhere", {"card": row["card"]}  # never say which
    return None


def hidden(db, card: str, who: Principal) -> bool:
    """True when ``card`` is registered in a community ``who`` may not see: to ``who`` it
    is missing, for a read, a change and an import alike."""
    old = catalog.row_by_key(db, "residents", card)
    return old is not None and not who.sees(old["community"])


def put_resident(ctx: Context, who: Principal, card: str, name: str, phone: str, community: str, status: str = "active") -> dict:
    community = _id(community)
    require(who, "resident.write", community)
    card = _code("card", card)
    row = {"card": card, "name": (name or "").strip(), "phone": (phone or "").strip(), "community": community, "status": status}
    with ctx.store.write() as db:
        if hidden(db, card, who):
            raise NotFound("resident", card)
        problem = resident_problem(db, row, who)
        if problem:
            raise Invalid(refusal(*problem, lang="en"), card=card[:40])
        outcome = _upsert(db, "residents", row)
        publish(db, "resident", row)
        record(db, ctx, who, "resident_put", card, {"outcome": outcome, "community": community, "status": status})
    return {"card": card, "outcome": outcome}


# ---------------------------------------------------------------- reading personal data
#
# Every read of residents' personal data by a staff member is an audit row (who, what, how
# many, whether full phones, why). Phones leave masked (last four digits) unless the reader
# gives a ``reason``, which is recorded; more than BULK_RESIDENTS residents in one answer,
# or the whole register, is an export: permission ``resident.export``.

#: The most residents one answer may hold without permission ``resident.export``, and the
#: most with full phones (a ``reason`` given).
BULK_RESIDENTS = 100
BULK_PHONES = 20


def mask_phone(phone: str) -> str:
    """``13800001234`` -> ``*******1234``: the tail a kiosk shows, nothing more."""
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def _reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = reason.strip()
    problem = name_problem(reason, "a reason", 200)
    if problem or len(reason) < 4:
        raise Invalid(problem or "a reason says why, in at least 4 characters", reason=reason[:40])
    return reason


def _disclose(db, ctx: Context, who: Principal, rows: list[dict], action: str, subject: str | None, reason: str | None, **detail) -> list[dict]:
    """``rows`` as ``who`` may see them (phones masked without a ``reason``), the read
    recorded in the caller's write transaction. The server's own chores are not recorded."""
    if reason is None:
        rows = [r | {"phone": mask_phone(r["phone"])} for r in rows]
    if who is not SYSTEM:
        record(db, ctx, who, action, subject, detail | {"count": len(rows), "full_phones": reason is not None, "reason": reason})
    return rows


def _reading(ctx: Context, who: Principal):
    """The transaction a read of personal data runs in: a write, for its audit row, except
    for the server's own chores, which record none."""
    return ctx.store.read() if who is SYSTEM else ctx.store.write()


def get_resident(ctx: Context, who: Principal, card: str, reason: str | None = None) -> dict:
    """One resident, balance and recent postings; the phone masked unless ``reason``."""
    require(who, "resident.read")
    card, reason = _code("card", card), _reason(reason)
    with _reading(ctx, who) as db:
        row = catalog.row_by_key(db, "residents", card)
        # Someone else's resident looks exactly like no resident: existence is data too.
        if row is None or not who.sees(row["community"]):
            raise NotFound("resident", card)
        [row] = _disclose(db, ctx, who, [row], "resident_read", card, reason)
        return row | {"confirmed": ledger.account_total(db, resident_account(card)),
                      "recent": ledger.recent_postings(db, resident_account(card), 20)}


def find_residents(ctx: Context, who: Principal, text: str, limit: int = 50) -> list[dict]:
    """Residents in ``who``'s scope found by card (or its start), the last four digits of
    the phone, pinyin initials, or the start of the name (``catalog.residents_found``)."""
    require(who, "resident.read")
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return []
    with ctx.store.read() as db:
        return catalog.residents_found(db, text[:40], scope_filter(who, None), min(max(limit, 1), 200))


def list_residents(ctx: Context, who: Principal, community: str | None = None, limit: int = BULK_RESIDENTS, after: str = "",
                   reason: str | None = None) -> list[dict]:
    """A page of residents by card; more than BULK_RESIDENTS (BULK_PHONES with full
    phones) needs ``resident.export``."""
    require(who, "resident.read")
    if not 1 <= limit <= 10_000:
        raise Invalid("limit is 1-10000 residents", limit=limit)
    if limit > BULK_RESIDENTS or (reason is not None and limit > BULK_PHONES):
        require(who, "resident.export")
    allowed = scope_filter(who, community)
    reason = _reason(reason)
    with _reading(ctx, who) as db:
        rows = catalog.residents_matching(db, after, allowed, limit)
        return _disclose(db, ctx, who, rows, "residents_read", community, reason, after=after[:40], limit=limit)


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
    if not r.get("name"):
        raise Invalid("a rule needs a name of 1-100 characters", rule=r["code"])
    check_name(r["name"], "a rule's name", rule=r["code"])
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
        store.mark_rule_change_applied(db, ch["id"], now, old["points"] if old else None)
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
    check_name(name, "a good's name", sku=sku)
    check_name(unit, "a good's unit", 20, sku=sku)
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
    check_name(name, "a shop's name", shop=shop_id)
    row = {"id": shop_id, "name": name, "community": community, "kind": kind}
    return _put(ctx, who, "shops", "shop", row, shop_id, community=community)


def set_shop_serves(ctx: Context, who: Principal, shop: str, communities: list[str]) -> dict:
    """The communities whose residents (and balances) ``shop``'s kiosks mirror; an empty
    list means the shop's own. On their next pull the kiosks get the residents of a newly
    served community and drop those of one no longer served (the ``serves`` feed row)."""
    require(who, "catalog.write")
    shop = _id(shop)
    wanted = sorted({_id(c) for c in communities})
    if len(wanted) > 1000:
        raise Invalid("a shop serves at most 1000 communities", shop=shop)
    with ctx.store.write() as db:
        if catalog.row_by_key(db, "shops", shop) is None:
            raise NotFound("shop", shop[:40])
        home = catalog.county_of_shop(db, shop)
        for c in wanted:
            if catalog.row_by_key(db, "communities", c) is None:
                raise NotFound("community", c[:40])
            if (county := catalog.county_of_community(db, c)) != home:
                raise Invalid(f"community {c} is in county {county or '(default)'}, shop {shop} in county {home or '(default)'}:"
                              " a kiosk mirrors its own county only", shop=shop, community=c)
        before = feed.shop_views(db)
        catalog.set_served_communities(db, shop, wanted)
        served = catalog.served_communities(db, shop)
        feed.publish_views(db, before)
        record(db, ctx, who, "shop_serves", shop, {"communities": served})
    return {"shop": shop, "serves": served}


def put_community(ctx: Context, who: Principal, community: str, name: str, street: str) -> dict:
    require(who, "catalog.write")
    community = _id(community)
    if not CODE.match(community or "") or not 1 <= len(name or "") <= 100:
        raise Invalid("a community needs an id code and a name (1-100)", community=(community or "")[:40])
    check_name(name, "a community's name", community=community)
    check_name(street or "", "a community's street", required=False, community=community)
    return _put(ctx, who, "communities", "community", {"id": community, "name": name, "street": street or ""}, community)


def put_operator(ctx: Context, who: Principal, op_id: str, shop: str, name: str, role: str = "operator",
                 pin: str | None = None, status: str = "active") -> dict:
    require(who, "catalog.write")
    op_id, shop = _code("operator", op_id), _id(shop)
    if not CODE.match(op_id or ""):
        raise Invalid(f"not an operator id: {op_id[:40]!r} (an operator id is {codes.KINDS['operator'].shape})", operator=op_id[:40])
    if not 1 <= len(name or "") <= 100 or role not in ("operator", "supervisor") or status not in STATUSES:
        raise Invalid("an operator needs a name (1-100 characters), role operator or supervisor, status active or retired", operator=op_id)
    check_name(name, "an operator's name", operator=op_id)
    pin_hash = _pin_hash(ctx, pin, op_id) if pin is not None else None
    with ctx.store.read() as db:
        old = catalog.row_by_key(db, "operators", op_id)
    if pin_hash is None:
        if old is None:
            raise Invalid(f"a new operator needs a PIN ({ctx.settings.pin_min_length}-8 digits)", operator=op_id)
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
    pin_hash = _pin_hash(ctx, pin, op_id)  # scrypt: before the write lock
    with ctx.store.write() as db:
        old = catalog.row_by_key(db, "operators", op_id)
        if old is None:
            raise NotFound("operator", op_id[:40])
        row = old | {"pin_hash": pin_hash}
        catalog.update_row(db, "operators", row)
        publish(db, "operator", row)
        record(db, ctx, who, "operator_pin", op_id, {"shop": old["shop"], "generated": generated})
    return {"operator": op_id, "shop": old["shop"]} | ({"pin": pin} if generated else {})


def expire_kiosk_pins(ctx: Context, who: Principal, kiosk: str) -> dict:
    """A kiosk is lost: the PINs of every operator of its shop stop working everywhere.
    Whoever holds the kiosk's disk may find those PINs by trying every one against the hashes
    it mirrors, so each hash is replaced by one no PIN matches (``EXPIRED``), and each
    operator signs in again only after staff give them a new PIN (``reset_operator_pin``).
    The shop's other kiosks refuse the old PINs from their next pull on."""
    require(who, "kiosk.manage")
    kiosk = _code("kiosk", kiosk)
    with ctx.store.write() as db:
        row = chain.kiosk_by_id(db, kiosk)
        if row is None:
            raise NotFound("kiosk", kiosk)
        expired = []
        for op in catalog.operators_of_shop(db, row["shop"]):
            if op["status"] != "active" or op["pin_hash"].startswith(EXPIRED):
                continue
            op = op | {"pin_hash": f"{EXPIRED}{kiosk}${ctx.now()}"}
            catalog.update_row(db, "operators", op)
            publish(db, "operator", op)
            expired.append(op["id"])
        record(db, ctx, who, "kiosk_pins_expired", kiosk, {"shop": row["shop"], "operators": expired})
    return {"kiosk": kiosk, "shop": row["shop"], "expired": expired}


def retire_operator(ctx: Context, who: Principal, op_id: str) -> dict:
    """An operator who has left: their shop's kiosks refuse their sign-in from the next pull on."""
    require(who, "catalog.write")
    return _retire(ctx, who, "operators", "operator", _code("operator", op_id))


#: the start of a PIN hash staff expired: not a stored format, so no PIN ever verifies it
EXPIRED = "expired$"


def _pin_hash(ctx: Context, pin: str, op_id: str) -> str:
    """A new PIN's hash: at least ``settings.pin_min_length`` digits (a 4-digit PIN falls to
    anyone with a copied kiosk disk in minutes; PINs set before keep verifying)."""
    pin = codes.clean(pin)  # digits typed full width are digits
    shortest = min(max(ctx.settings.pin_min_length, 4), 8)
    if not re.fullmatch(rf"[0-9]{{{shortest},8}}", pin):
        raise Invalid(f"a PIN is {shortest}-8 digits", operator=op_id)
    return hash_pin(pin, os.urandom(16))


def _put(ctx: Context, who: Principal, table: str, kind: str, row: dict, key: str, community: str | None = None, audit: dict | None = None) -> dict:
    with ctx.store.write() as db:
        if community is not None and catalog.row_by_key(db, "communities", community) is None:
            raise NotFound("community", community)
        if "shop" in row and catalog.row_by_key(db, "shops", row["shop"]) is None:
            raise NotFound("shop", row["shop"])
        before = feed.shop_views(db) if table == "shops" else None
        outcome = _upsert(db, table, row)
        publish(db, kind, row)
        if before is not None:
            feed.publish_views(db, before)  # a shop serving its own community moved with it
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


def list_reference(ctx: Context, who: Principal, what: str, reason: str | None = None) -> list[dict]:
    """Every row of one reference table (or the kiosks). The whole register of residents
    is an export (``resident.export``), recorded, phones masked unless ``reason``."""
    if what not in LISTABLE:
        raise Invalid(f"cannot list {what}; choose from {', '.join(LISTABLE)}", what=what[:40])
    if what == "residents":
        require(who, "resident.export")
        reason = _reason(reason)
        with ctx.store.write() as db:
            return _disclose(db, ctx, who, catalog.list_rows(db, what), "residents_export", None, reason)
    require(who, "report.read")
    with ctx.store.read() as db:
        rows = catalog.list_rows(db, what)
    if what == "operators":
        for r in rows:
            r.pop("pin_hash", None)  # a PIN hash is for kiosks, not for screens and logs
    return rows
