"""Kiosk key rotation: a kiosk replaces its own key, or central staff force a new one.

**Rotation** (``POST /v1/rotate``): the kiosk sends its new public key, signed by its
current key (domain ``rotate``, over the exact body), with a proof that it holds the new
one. The new key signs the kiosk's batches from ``from_seq`` on — the kiosk's next batch —
so batches it signed with the old key before that, pushed or not, are still accepted and
still verify in every audit (``kiosk_keys`` keeps the whole history). A repeated request
gets the same reply, so a kiosk that crashed before it switched key files simply asks again.

**Forced re-key** (``jifen-server kiosk rotate KIOSK``, for a key that may have leaked):
the old key is retired at once for every batch the server does not yet hold (``rekey_from``)
and for pulls, and a one-time re-enrolment code is issued; presented to ``POST /v1/enroll``
with a new key it binds that key to the same kiosk id (``server.services.enroll``). The
kiosk re-signs its unsent batches with the new key; nothing recorded is lost.
"""

from schema.wire import RotateReply, RotateRequest
from server.errors import Forbidden, Invalid, NotFound
from server.services.caller import authenticate
from server.services.context import Context
from server.services.enroll import hash_code, new_code
from server.services.integrity import key_trace
from server.services.push import record_rejection
from server.services.staff import Principal, record, require
from server.store import catalog, chain
from sync import codes
from sync.keys import rotate_proof_message
from sync.protocol import PROTOCOL_VERSION, RequestRejected, decode_request
from sync.signing import BadKey, BadSignature


def rotate(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes, address: str | None = None) -> RotateReply:
    kiosk, signer = authenticate(ctx, kiosk_id, signature, body, address, lambda k: rotation_signer(ctx, k, signature, body))
    try:
        return _rotate(ctx, kiosk, signer, body, signature)
    except RequestRejected as exc:  # a verified attempt to re-key a kiosk is kept for staff, like a bad batch
        with ctx.store.write() as db:
            record_rejection(ctx, db, kiosk, exc, body, signature, {"source": "rotate"}, ctx.now())
        raise


def rotation_signer(ctx: Context, kiosk: dict, signature: str, body: bytes) -> str:
    """The key that signed ``body``: the current one, or (a repeated request) the key
    this rotation replaced; ``bad_signature`` for any other."""
    with ctx.store.read() as db:
        keys = chain.key_history(db, kiosk["id"])
    for key in dict.fromkeys([kiosk["public_key"], *([keys[-2][1]] if len(keys) > 1 else [])]):
        try:
            ctx.verify_key(key).verify("rotate", body, signature)
            return key
        except (BadSignature, BadKey):
            continue
    raise RequestRejected("bad_signature", f"rotation request of kiosk {kiosk['id']} is not signed by its key", kiosk=kiosk["id"])


def _rotate(ctx: Context, kiosk: dict, signer: str, body: bytes, signature: str) -> RotateReply:
    kiosk_id = kiosk["id"]
    check_usable(kiosk)
    req = parse_rotate(body, kiosk_id)
    try:
        ctx.verify_key(req.public_key).verify("rotate", rotate_proof_message(req.kiosk, req.from_seq, req.public_key), req.proof)
    except (BadSignature, BadKey) as exc:
        raise RequestRejected("bad_signature", f"proof of the new key does not verify: {exc}", kiosk=kiosk_id) from None
    with ctx.store.write() as db:
        kiosk = chain.kiosk_by_id(db, kiosk_id)  # again, under the write lock
        check_usable(kiosk)
        rows = chain.key_rows(db, kiosk_id)
        if kiosk["public_key"] == req.public_key:
            # a repeat (or a kiosk that re-enrolled this key and crashed before it heard so):
            # it holds both keys, so it is told where the new key stands; nothing changes
            if len(rows) > 1 and rows[-2]["public_key"] == signer:
                return _reply(kiosk_id, req.public_key, kiosk["key_from_seq"], rows[-1]["added_at"])
            raise RequestRejected("rotation_refused", "this key is already the kiosk's key", kiosk=kiosk_id)
        if signer != kiosk["public_key"]:
            raise RequestRejected("bad_signature", f"rotation request of kiosk {kiosk_id} is signed by a retired key", kiosk=kiosk_id)
        if chain.key_known(db, req.public_key) is not None:
            raise RequestRejected("rotation_refused", "this public key is already known; make a new key", kiosk=kiosk_id)
        floor = max(kiosk["next_seq"], chain.max_stored_seq(db, kiosk_id) + 1, kiosk["key_from_seq"])
        if req.from_seq < floor:
            raise RequestRejected("rotation_refused", f"from_seq {req.from_seq} is behind batches the server holds; "
                                  f"the first free seq is {floor}", kiosk=kiosk_id, next_seq=floor)
        now = ctx.now()
        chain.set_kiosk_key(db, kiosk_id, req.public_key, req.from_seq, now,
                            key_trace(ctx, kiosk_id, req.public_key, req.from_seq, rotation=body, rotation_signature=signature))
    return _reply(kiosk_id, req.public_key, req.from_seq, now)


def check_usable(kiosk: dict) -> None:
    if kiosk["status"] == "revoked":
        raise RequestRejected("kiosk_revoked", f"kiosk {kiosk['id']} is revoked", kiosk=kiosk["id"])
    if kiosk["rekey_from"] is not None:
        raise RequestRejected("key_retired", f"central staff retired the key of kiosk {kiosk['id']}; re-enrol with the code they give",
                              kiosk=kiosk["id"], seq=kiosk["rekey_from"])


def parse_rotate(body: bytes, kiosk_id: str) -> RotateRequest:
    return decode_request(body, RotateRequest, kiosk_id, "rotation request")


def _reply(kiosk: str, public_key: str, from_seq: int, at: int) -> RotateReply:
    return RotateReply(v=PROTOCOL_VERSION, kiosk=kiosk, public_key=public_key, from_seq=from_seq, rotated_at=at)


def force_rotate(ctx: Context, who: Principal, kiosk_id: str) -> dict:
    """Retire a kiosk's key now (for every batch the server does not hold yet, and for
    pulls) and issue a one-time re-enrolment code that binds a new key to the same id."""
    require(who, "kiosk.manage")
    kiosk_id = codes.normalise_or_keep("kiosk", kiosk_id)
    code = new_code()
    now = ctx.now()
    expires = now + ctx.settings.enroll_code_ttl_seconds * 1000
    with ctx.store.write() as db:
        kiosk = chain.kiosk_by_id(db, kiosk_id)
        if kiosk is None:
            raise NotFound("kiosk", kiosk_id)
        if kiosk["status"] == "revoked":
            raise Invalid(f"kiosk {kiosk_id} is revoked; enrol a new kiosk instead", kiosk=kiosk_id)
        fence = kiosk["rekey_from"] or max(kiosk["next_seq"], chain.max_stored_seq(db, kiosk_id) + 1)
        chain.set_rekey_from(db, kiosk_id, fence)
        chain.insert_enroll_code(db, hash_code(code), kiosk["shop"], now, expires, rekey=kiosk_id)
        record(db, ctx, who, "kiosk_rotate", kiosk_id, {"from_seq": fence, "expires_at": expires})
    return {"kiosk": kiosk_id, "code": code, "from_seq": fence, "expires_at": expires}


def key_history(ctx: Context, who: Principal, kiosk_id: str) -> list[dict]:
    """A kiosk's keys, oldest first. A community manager sees only its communities' kiosks:
    another community's kiosk, like one that does not exist, is ``403`` for it (so the
    answer never tells which), ``404`` only for an unscoped role."""
    require(who, "report.read")
    kiosk_id = codes.normalise_or_keep("kiosk", kiosk_id)
    with ctx.store.read() as db:
        kiosk = chain.kiosk_by_id(db, kiosk_id)
        shop = catalog.row_by_key(db, "shops", kiosk["shop"]) if kiosk else None
        if who.communities is not None and (shop is None or not who.sees(shop["community"])):
            raise Forbidden(f"kiosk {kiosk_id[:40]} is not at a shop of a community {who.username} manages", kiosk=kiosk_id[:40])
        if kiosk is None:
            raise NotFound("kiosk", kiosk_id)
        return [{k: r[k] for k in ("public_key", "from_seq", "added_at", "retired_at")} for r in chain.key_rows(db, kiosk_id)]
