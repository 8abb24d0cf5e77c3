"""A kiosk's signed online lookup of one resident by exact card, and of a resident's whole
history: for a resident from a community the kiosk does not mirror, and for the history
across every shop, station and central adjustment that no kiosk holds.

Signed like a pull (domains ``lookup`` and ``history``, the kiosk's current key,
``server.services.caller``), answered with a signed reply that echoes the request's nonce.
The card is normalised as typed (``sync.codes``) and must match exactly: there is no
search. A revoked kiosk is refused (``kiosk_revoked``). Each request that is answered —
found or ``unknown_card`` — is one audit row (staff ``kiosk:<id>``, action
``kiosk_lookup`` or ``kiosk_history``, subject the card) appended in the transaction
that read the answer; today's rows (Asia/Shanghai) are the kiosk's allowance
(``Settings.lookups_per_day``, ``histories_per_day``), past which it is refused with
``lookup_allowance`` until the next day. So a stolen kiosk learns few residents a day,
each one on record.

Counties (server migration 20): a kiosk mirrors its own county only. ``POST /v1/lookup``
refuses a resident of another county with ``other_county`` (in a deployment without
counties every resident is in the default one, so nothing changes there), and
``POST /v1/lookup/resident`` answers with a ``ResidentStatement`` signed by the server key
(domain ``resident``, over its canonical bytes from ``sync.codec``): card, masked name,
community and county, confirmed balance. The kiosk verifies it before use and serves that
resident online only, one fresh statement per transaction; it counts against the same
daily allowance as ``lookup`` (audit action ``kiosk_resident_lookup``).
"""

from collections.abc import Callable
from typing import Any

import msgspec

from schema.wire import (
    HistoryEntry,
    HistoryReply,
    HistoryRequest,
    LookupReply,
    LookupRequest,
    ResidentLookupRequest,
    ResidentReply,
    ResidentStatement,
)
from server.services.caller import authenticate, check_request_signature
from server.services.context import Context
from server.services.history import read_history
from server.store import Tx, catalog, ledger
from server.store import staff as audit_store
from sync import codec, codes
from sync.board import mask_name
from sync.calendar import day_bounds, local_day
from sync.ledger import resident_account
from sync.protocol import MAX_HISTORY_LIMIT, PROTOCOL_VERSION, RequestRejected, decode_request
from sync.signing import Domain

LOOKUP_ACTION = "kiosk_lookup"
HISTORY_ACTION = "kiosk_history"
RESIDENT_LOOKUP_ACTION = "kiosk_resident_lookup"


def lookup(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes,
           address: str | None = None) -> LookupReply:
    """``POST /v1/lookup``: the resident, their community and confirmed balance."""
    kiosk, req, card = _request(ctx, kiosk_id, signature, body, address, "lookup", LookupRequest)

    def read(db: Tx, resident: dict) -> LookupReply:
        county, home = catalog.county_of_community(db, resident["community"]), catalog.county_of_shop(db, kiosk["shop"])
        if county != home:  # another county's resident: only the signed statement (below) serves them
            raise RequestRejected("other_county", f"card {card} is of county {county or '(default)'}, kiosk {kiosk['id']}"
                                  f" of county {home or '(default)'}: ask POST /v1/lookup/resident", card=card, county=county)
        community = catalog.row_by_key(db, "communities", resident["community"])
        return LookupReply(
            v=PROTOCOL_VERSION, kiosk=kiosk["id"], nonce=req.nonce, card=card, name=resident["name"],
            community=resident["community"], community_name=community["name"] if community else resident["community"],
            status=resident["status"], balance=ledger.account_total(db, resident_account(card)),
            feed=catalog.feed_high_water(db), server_time=ctx.now())

    return _answer(ctx, kiosk, card, LOOKUP_ACTION, ctx.settings.lookups_per_day, read)


def resident_lookup(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes,
                    address: str | None = None) -> ResidentReply:
    """``POST /v1/lookup/resident``: a ``ResidentStatement`` (masked name, community and
    county, confirmed balance) signed by the server key, for a resident of any county."""
    kiosk, req, card = _request(ctx, kiosk_id, signature, body, address, "resident-lookup", ResidentLookupRequest)

    def read(db: Tx, resident: dict) -> ResidentReply:
        community = catalog.row_by_key(db, "communities", resident["community"])
        county = catalog.county_of_community(db, resident["community"])
        named = {c["id"]: c["name"] for c in catalog.list_counties(db)}
        statement = codec.encode(ResidentStatement(
            v=PROTOCOL_VERSION, kiosk=kiosk["id"], kiosk_county=catalog.county_of_shop(db, kiosk["shop"]), nonce=req.nonce,
            card=card, name=mask_name(resident["name"]), community=resident["community"],
            community_name=community["name"] if community else resident["community"], county=county,
            county_name=named.get(county, ""), status=resident["status"],
            balance=ledger.account_total(db, resident_account(card)), feed=catalog.feed_high_water(db), at=ctx.now()))
        return ResidentReply(v=PROTOCOL_VERSION, statement=msgspec.Raw(statement), signature=ctx.key.sign("resident", statement))

    return _answer(ctx, kiosk, card, RESIDENT_LOOKUP_ACTION, ctx.settings.lookups_per_day, read)


def history(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes,
            address: str | None = None) -> HistoryReply:
    """``POST /v1/history``: the newest ``limit`` entries of the resident's history (the
    console's own reading, ``server.services.history.read_history``), with the opening
    balance before them and the confirmed balance they add up to."""
    kiosk, req, card = _request(ctx, kiosk_id, signature, body, address, "history", HistoryRequest)
    if not 1 <= req.limit <= MAX_HISTORY_LIMIT:
        raise RequestRejected("malformed_request", f"history limit must be 1-{MAX_HISTORY_LIMIT}, not {req.limit}", limit=req.limit)

    def read(db: Tx, resident: dict) -> HistoryReply:
        found = read_history(db, resident, req.limit)
        entries = [HistoryEntry(event=e["event"], at=e["at"], kind=e["kind"], points=e["points"], balance=e["balance"],
                                kiosk=e["kiosk"], shop=e["shop"], shop_name=e["shop_name"], receipt=e["receipt"])
                   for e in found["entries"]]
        return HistoryReply(
            v=PROTOCOL_VERSION, kiosk=kiosk["id"], nonce=req.nonce, card=card,
            opening=found["balance"] - sum(e.points for e in entries), balance=found["balance"],
            count=found["count"], entries=entries, feed=catalog.feed_high_water(db), server_time=ctx.now())

    return _answer(ctx, kiosk, card, HISTORY_ACTION, ctx.settings.histories_per_day, read)


def actor(kiosk_id: str) -> str:
    """Who a kiosk's request is in the audit log."""
    return f"kiosk:{kiosk_id}"


def _request(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes, address: str | None,
             domain: Domain, type_: type) -> tuple[dict, Any, str]:
    """The verified kiosk (not revoked), its decoded request and the card it names, normalised."""
    kiosk, _ = authenticate(ctx, kiosk_id, signature, body, address,
                            lambda k: check_request_signature(ctx, k, domain, body, signature))
    if kiosk["status"] == "revoked":
        raise RequestRejected("kiosk_revoked", f"kiosk {kiosk['id']} is revoked", kiosk=kiosk["id"])
    req = decode_request(body, type_, kiosk["id"], f"{domain} request")
    card = codes.normalise_or_none("card", req.card)
    if card is None:
        raise RequestRejected("malformed_request", f"{domain} card {req.card[:40]!r} is not a card number "
                              f"({codes.KINDS['card'].shape})", card=req.card[:40])
    return kiosk, req, card


def _answer(ctx: Context, kiosk: dict, card: str, action: str, allowance: int, read: Callable[[Tx, dict], Any]) -> Any:
    """In one write transaction: refuse a kiosk past today's allowance, read the answer
    (None: no such resident) and append the audit row; ``unknown_card`` after it commits."""
    now = ctx.now()
    start, end = day_bounds(local_day(now))
    who = actor(kiosk["id"])

    with ctx.store.write() as db:
        used = audit_store.audit_count_since(db, who, action, start)
        if used >= allowance:
            raise RequestRejected("lookup_allowance", f"kiosk {kiosk['id']} has made its {allowance} {action} requests for today",
                                  kiosk=kiosk["id"], allowance=allowance, retry_after_ms=end - now)
        resident = catalog.row_by_key(db, "residents", card)
        answer = read(db, resident) if resident is not None else None
        audit_store.append_audit(db, now, who, action, card, {"found": answer is not None, "shop": kiosk["shop"]})
    if answer is None:
        raise RequestRejected("unknown_card", f"no resident holds card {card}", card=card)
    return answer
