"""The security headers every HTTP response carries unless it sets its own: a strict
Content-Security-Policy, ``nosniff``, no framing, no referrer, and ``no-store`` (replies
hold residents' personal data and bearer tokens; no cache or proxy should keep them).

Set in a ``before_send`` hook of the app (``create_app``), so they reach every response,
the router's 404s and the exception handler's errors included. A response that needs
another value (a console page with its own script and style sources, a cacheable static
file) sets that header itself and this hook leaves it alone: one header per response,
never a second copy.
"""

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

#: header -> the value a response gets when it does not set the header itself.
DEFAULTS: dict[str, str] = {
    # Reports' HTML has inline styles only; nothing else may load, frame or submit.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def security_headers(message: Message, scope: Scope) -> None:
    """Add each of ``DEFAULTS`` the response does not already carry."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in DEFAULTS.items():
        if name not in headers:
            headers[name] = value
