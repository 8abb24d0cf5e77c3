"""Secrets kept only as hashes: staff passwords (checked on the server) and operator PINs
(hashed on the server, published in the operator feed, checked offline on the kiosk).

One stored format for both, ``scrypt$N$r$p$salt_hex$hash_hex`` (scrypt: memory-hard, in
the standard library). ``verify`` reads the cost back from the stored string, so a cost
raised later leaves every hash already stored verifying. Pure: the salt is an argument.

A kiosk keeps the PIN hashes it mirrors *peppered*: ``pepper$scrypt$N$r$p$salt_hex$mac_hex``
where ``mac`` is HMAC-SHA256 under a per-kiosk secret (the pepper, a file beside the kiosk's
key, never in its database) of the scrypt hash. A copy of the database alone cannot test
a single PIN; ``verify`` needs the pepper for such a hash.
"""

import hashlib
import hmac
from typing import NamedTuple


class Cost(NamedTuple):
    """scrypt's work parameters: CPU/memory cost ``n``, block size ``r``, parallelism ``p``."""

    n: int
    r: int
    p: int


#: PINs are checked on every sign-in at a kiosk, on modest hardware and offline.
PIN_COST = Cost(2**14, 8, 1)
#: Staff passwords guard every community's data and are checked on the server.
PASSWORD_COST = Cost(2**15, 8, 1)
#: scrypt needs about 128·n·r bytes: room for both costs (OpenSSL's own default, 32 MiB, is
#: just too small for PASSWORD_COST), and a stored string asking for much more is refused.
_MAXMEM = 64 * 1024 * 1024


def hash_secret(secret: str, salt: bytes, cost: Cost) -> str:
    """``scrypt$N$r$p$salt_hex$hash_hex`` of ``secret``."""
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=cost.n, r=cost.r, p=cost.p, maxmem=_MAXMEM, dklen=32)
    return f"scrypt${cost.n}${cost.r}${cost.p}${salt.hex()}${digest.hex()}"


def hash_pin(pin: str, salt: bytes) -> str:
    return hash_secret(pin, salt, PIN_COST)


def hash_password(password: str, salt: bytes) -> str:
    return hash_secret(password, salt, PASSWORD_COST)


PEPPERED = "pepper$"


def _mac(pepper: bytes, digest: bytes) -> str:
    return hmac.new(pepper, digest, hashlib.sha256).hexdigest()


def pepper(stored: str, secret: bytes) -> str:
    """``stored`` (a plain scrypt hash) with its hash mixed with the kiosk's ``secret``; a
    string already peppered, or in no stored format (an expired PIN), is returned as it is."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return stored
    try:
        mac = _mac(secret, bytes.fromhex(parts[5]))
    except ValueError:
        return stored
    return PEPPERED + "$".join(parts[:5] + [mac])


def verify(secret: str, stored: str, pepper: bytes | None = None) -> bool:
    """True iff ``secret`` hashes to ``stored`` under the salt and cost written in it;
    constant-time comparison. A malformed stored string never verifies, nor does a
    peppered one without its ``pepper``."""
    peppered = stored.startswith(PEPPERED)
    if peppered:
        if pepper is None:
            return False
        stored = stored[len(PEPPERED):]
    try:
        algo, n, r, p, salt_hex, hash_hex = stored.split("$")
        if algo != "scrypt":
            return False
        digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
                                maxmem=_MAXMEM, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(_mac(pepper, digest) if peppered else digest.hex(), hash_hex)
