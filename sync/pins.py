"""Operator PINs: hashed with scrypt (memory-hard) on the server, checked on the kiosk
offline. The salt is an argument so this stays pure and testable."""

import hashlib
import hmac

_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str, salt: bytes) -> str:
    """'scrypt$N$r$p$salt_hex$hash_hex' of a PIN."""
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    """True iff ``pin`` matches ``stored``; constant-time comparison."""
    try:
        algo, n, r, p, salt_hex, hash_hex = stored.split("$")
        if algo != "scrypt":
            return False
        digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), hash_hex)
