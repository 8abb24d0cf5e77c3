"""Who is calling a /v1 endpoint: the headers every signed kiosk request carries, and the
enrolled kiosk they name. Shared by push, pull and rotate so each refuses the same way."""

from server.store import Tx, chain
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE, RequestRejected


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
