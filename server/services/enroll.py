"""Enrolment: central staff issue a one-time code for a shop; a kiosk presents it with
its new public key and a proof that it holds the private half, and becomes K0001, K0002…
A re-enrolment code (``server.services.rotate.force_rotate``) instead binds the new key to
the kiosk it was issued for, from the batch where the old key was retired.

Codes are stored only as SHA-256 hashes, expire, and work once. The reply carries the
server's public key, which the kiosk pins and checks every later response against.
"""

import hashlib
import secrets

from schema.wire import EnrollReply, EnrollRequest
from server.errors import NotFound
from server.services import feed
from server.services.context import Context
from server.services.integrity import key_trace
from server.services.staff import Principal, record, require
from server.store import catalog, chain
from sync import codes
from sync.protocol import PROTOCOL_VERSION, RequestRejected, decode_message
from sync.signing import BadKey, BadSignature

#: what a kiosk's label may hold: letters and digits of any script, spaces and ``- _ . # ( ) ·``,
#: starting with a letter or digit — so a label reaches a report or spreadsheet as plain text
LABEL_PUNCTUATION = frozenset(" -_.#()·（）")


def label_problem(label: str) -> str | None:
    """Why ``label`` is no kiosk label, or None."""
    if not label or not label[0].isalnum():
        return "a kiosk label starts with a letter or digit"
    bad = next((ch for ch in label if not (ch.isalnum() or ch in LABEL_PUNCTUATION)), None)
    return None if bad is None else f"a kiosk label holds letters, digits, spaces and - _ . # ( ) ·, not {bad!r}"


# No 0/O, 1/I: a code is read off paper and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def proof_message(code: str, public_key: str) -> bytes:
    """What a kiosk signs (domain ``enroll``) to prove it holds its key."""
    return f"{code}\n{public_key}".encode("ascii")


def new_code() -> str:
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def enroll_code(ctx: Context, who: Principal, shop: str) -> dict:
    """Issue a one-time enrolment code for ``shop``; only its hash is stored. The code and
    its audit row are one transaction."""
    require(who, "kiosk.manage")
    shop = codes.clean(shop or "")  # as typed or pasted; a shop id keeps its case
    code = new_code()
    now = ctx.now()
    expires = now + ctx.settings.enroll_code_ttl_seconds * 1000
    with ctx.store.write() as db:
        if catalog.row_by_key(db, "shops", shop) is None:
            raise NotFound("shop", shop)
        chain.insert_enroll_code(db, hash_code(code), shop, now, expires)
        record(db, ctx, who, "enroll_code", shop, {"expires_at": expires})
    return {"code": code, "shop": shop, "expires_at": expires}


def enroll(ctx: Context, body: bytes) -> EnrollReply:
    req = parse_enroll(body)
    if (problem := label_problem(req.label)) is not None:
        raise RequestRejected("malformed_request", problem, label=req.label[:40])
    try:
        ctx.verify_key(req.public_key).verify("enroll", proof_message(req.code, req.public_key), req.proof)
    except (BadSignature, BadKey) as exc:
        raise RequestRejected("bad_signature", f"enrolment proof does not verify: {exc}") from None
    now = ctx.now()
    with ctx.store.write() as db:
        code = chain.enroll_code_by_hash(db, hash_code(req.code))
        if code is None or code["used_at"] is not None or code["expires_at"] <= now:
            state = "unknown" if code is None else ("already used" if code["used_at"] is not None else "expired")
            raise RequestRejected("bad_enroll_code", f"enrolment code {req.code} is {state}", enroll_code=req.code)
        existing = chain.key_known(db, req.public_key)
        if existing is not None:
            raise RequestRejected("malformed_request", f"this public key is already enrolled as {existing}; make a new key", kiosk=existing)
        from_seq = 1
        if code["rekey"]:  # a re-enrolment code (server.services.rotate): a new key for the same kiosk
            kiosk = code["rekey"]
            row = chain.kiosk_by_id(db, kiosk)
            if row["status"] == "revoked":
                raise RequestRejected("bad_enroll_code", f"enrolment code {req.code} re-keys kiosk {kiosk}, which is revoked", enroll_code=req.code)
            from_seq = row["rekey_from"] or max(row["next_seq"], chain.max_stored_seq(db, kiosk) + 1)
            chain.set_kiosk_key(db, kiosk, req.public_key, from_seq, now, key_trace(ctx, kiosk, req.public_key, from_seq, hash_code(req.code)))
        else:
            kiosk = chain.next_kiosk_id(db)
            chain.insert_kiosk(db, kiosk, code["shop"], req.label, req.public_key, now, key_trace(ctx, kiosk, req.public_key, 1, hash_code(req.code)))
            feed.publish_missing_projected(db)  # its ``projected`` row from the start (none of its batches yet)
        chain.use_enroll_code(db, hash_code(req.code), now, kiosk)
        shop = catalog.row_by_key(db, "shops", code["shop"])
    return EnrollReply(
        v=PROTOCOL_VERSION,
        kiosk=kiosk,
        shop=shop["id"],
        shop_name=shop["name"],
        server_key=ctx.key.public_hex,
        enrolled_at=now,
        key_from_seq=from_seq,
    )


def parse_enroll(body: bytes) -> EnrollRequest:
    """An enrolment request, decoded and of a known protocol version (it names no kiosk yet)."""
    return decode_message(body, EnrollRequest, "enrolment request")
