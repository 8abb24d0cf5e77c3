"""A receipt's short code: eight characters ``XXXX-XXXX`` derived from its event id, which a
resident can quote on the phone and staff can find in the resident's history. Derived, so
the kiosk that prints it and the server that shows it agree without storing it."""

import hashlib

#: Crockford-style alphabet: no I, L, O, U, so a code read aloud is not misheard
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def short_code(event_id: str) -> str:
    """Eight characters 'XXXX-XXXX' derived from the event id."""
    n = int.from_bytes(hashlib.sha256(f"jifen-receipt\n{event_id}".encode()).digest()[:5], "big")
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(8))
    return f"{chars[:4]}-{chars[4:]}"
