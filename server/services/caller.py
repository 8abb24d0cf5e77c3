"""Who is calling a /v1 endpoint: the headers every signed kiosk request carries, the
enrolled kiosk they name, and its signature. Shared by push, pull, rotate, lookup and
history so each refuses, counts and charges the same way.

A request that fails before its signature verifies may come from anyone: its body is not
kept (only a count and the last SHA-256 per kiosk and code, ``chain.count_unstored``), and
it spends its client address's allowance, never the kiosk's (``server.ratelimit``).
"""

from collections.abc import Callable
from typing import TypeVar

from server.services.context import Context
from server.store import Tx, chain
from sync import codec
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE, RequestRejected
from sync.signing import BadKey, BadSignature, Domain

T = TypeVar("T")


def require_headers(kiosk_id: str | None, signature: str | None) -> None:
    if not kiosk_id:
        raise RequestRejected("missing_header", f"header {HEADER_KIOSK} is required", header=HEADER_KIOSK)
    if not signature:
        raise RequestRejected("missing_header", f"header {HEADER_SIGNATURE} is required", header=HEADER_SIGNATURE)


def enrolled_kiosk(db: Tx, kiosk_id: str) -> dict:
    """The kiosk row, or ``unknown_kiosk`` (the id is echoed cut short: it is untrusted)."""
    kiosk = chain.kiosk_by_id(db, kiosk_id)
    if kiosk is None:
        raise RequestRejected("unknown_kiosk", f"no kiosk {kiosk_id[:40]} is enrolled", kiosk=kiosk_id[:40])
    return kiosk


def authenticate(ctx: Context, kiosk_id: str | None, signature: str | None, body: bytes, address: str | None,
                 verify: Callable[[dict], T]) -> tuple[dict, T]:
    """The enrolled kiosk ``kiosk_id`` (with its key history) and what ``verify(kiosk)``
    returned: the endpoint's signature check, which raises ``RequestRejected`` when the
    body is not signed by a key the kiosk may use. Then one of the kiosk's tokens is spent
    (``429 rate_limited`` when there is none left). On any failure before that, one of the
    ``address``'s tokens is spent and, for a known kiosk, the failure is counted."""
    kiosk = None
    try:
        require_headers(kiosk_id, signature)
        with ctx.store.read() as db:
            kiosk = chain.with_keys(db, enrolled_kiosk(db, kiosk_id))
        proof = verify(kiosk)
    except RequestRejected as exc:
        ctx.limits.unverified(address)
        if kiosk is not None:
            with ctx.store.write() as db:
                chain.count_unstored(db, kiosk["id"], exc.code, codec.digest(body), len(body), ctx.now())
        raise
    ctx.limits.verified(kiosk["id"])
    return kiosk, proof


def check_request_signature(ctx: Context, kiosk: dict, domain: Domain, body: bytes, signature: str) -> None:
    """Raise unless the kiosk's current key signed ``body`` under ``domain``: a request
    that is not a batch (pull, lookup, history), so only the current key may sign it."""
    if kiosk["rekey_from"] is not None:  # its key may have leaked: no data for it
        raise RequestRejected("key_retired", f"central staff retired the key of kiosk {kiosk['id']}; re-enrol with the code they give",
                              kiosk=kiosk["id"], seq=kiosk["rekey_from"])
    try:
        ctx.verify_key(kiosk["public_key"]).verify(domain, body, signature)
    except (BadSignature, BadKey) as exc:
        raise RequestRejected("bad_signature", f"{domain} signature of kiosk {kiosk['id']}: {exc}", kiosk=kiosk["id"]) from None
