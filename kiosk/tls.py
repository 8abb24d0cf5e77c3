"""Transport security of the kiosk's link to the server.

Pull pages carry residents' names and phone tails, so they never cross a network in clear
text unless the operator said so explicitly: plain ``http://`` is refused for any host
but this machine (loopback) without ``--insecure-http``.

Over ``https://`` the kiosk pins what it trusts at enrolment and nothing else afterwards:
either the server's own certificate, fetched on first contact (trust on first use, like
the server's signing key), or a CA certificate the operator gave with ``--ca FILE``. The
pin is kept in the kiosk database; a server presenting any other certificate is refused
exactly like an unreachable one.
"""

import ipaddress
import ssl
from urllib.parse import urlsplit

from kiosk.errors import CertificateUnavailable, InsecureServer

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, insecure_http: bool) -> None:
    """Refuse clear text to anything but loopback unless the operator allowed it."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and (insecure_http or is_loopback(url))):
        return
    raise InsecureServer(url=url)


def fetch_certificate(url: str, timeout: float = 10.0) -> str:
    """The PEM certificate the server at ``url`` presents (not verified: this is the
    first contact, whose answer is then pinned)."""
    parts = urlsplit(url)
    try:
        return ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateUnavailable(url=url, why=f"{type(exc).__name__}: {exc}") from None


def context(pem: str, mode: str) -> ssl.SSLContext:
    """An SSL context trusting only ``pem``.

    ``pin``: the server's own certificate is the one trust anchor; the name in it is not
    checked (the exact certificate is the identity), and a certificate issued by a CA is
    accepted as an anchor on its own (partial chain). ``ca``: the given CA, with the usual
    hostname check.
    """
    ctx = ssl.create_default_context(cadata=pem)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if mode == "pin":
        ctx.check_hostname = False
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return ctx

