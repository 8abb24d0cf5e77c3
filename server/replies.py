"""Every /v1 response, success or error: canonical JSON signed with the server key.

The signature (domain ``response``) covers the exact body bytes and travels in the
``Jifen-Signature`` header; a kiosk checks it against the key it pinned before reading.
Errors of any origin (protocol, Litestar's own 404/405/413/validation, a bug) leave in
the one ``ErrorReply`` shape with a stable code, never as a traceback or an HTML page.
"""

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException

from schema.wire import ErrorBody, ErrorReply
from sync import codec
from sync.protocol import HEADER_SIGNATURE, ProtocolError
from sync.signing import SigningKey

log = logging.getLogger("jifen.server")

MEDIA_TYPE = "application/json"
DIGEST_STATE = "request_digest"

# Litestar's own HTTP errors, by status, as protocol codes.
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 503: "unavailable", 429: "rate_limited"}


def signed(key: SigningKey, obj: object, status_code: int = 200) -> Response:
    body = codec.encode(obj)
    return Response(
        content=body,
        status_code=status_code,
        media_type=MEDIA_TYPE,
        headers={HEADER_SIGNATURE: key.sign("response", body)},
    )


def as_protocol_error(exc: Exception, request: Request) -> ProtocolError:
    """The protocol's view of any exception that reaches the edge."""
    if isinstance(exc, ProtocolError):
        return exc
    if isinstance(exc, HTTPException):
        code = _HTTP_CODES.get(exc.status_code)
        if code == "not_found":
            return ProtocolError(code, f"no endpoint at {request.url.path}", path=request.url.path)
        if code == "method_not_allowed":
            return ProtocolError(code, f"{request.method} is not allowed on {request.url.path}", method=request.method)
        if code == "body_too_large":
            limit = request.route_handler.resolve_request_max_body_size()
            return ProtocolError(code, f"the body exceeds the limit of {limit} bytes", limit=limit)
        if code is None and 400 <= exc.status_code < 500:
            code = "malformed_request"
        if code is not None:
            return ProtocolError(code, str(exc.detail))
    # Input no parameter bound caught: a number SQLite cannot hold (a path id, say), a body
    # nested deeper than the decoder recurses. The client's fault, so a 400 that says so.
    if isinstance(exc, OverflowError):
        return ProtocolError("malformed_request", f"a number in the request is out of range: {exc}")
    if isinstance(exc, RecursionError) and "deserializ" in str(exc):
        return ProtocolError("malformed_request", "the JSON body is nested too deeply")
    log.exception("unexpected error", exc_info=exc)
    return ProtocolError("internal_error", "the server failed; nothing was applied")


def error_reply(exc: Exception, request: Request) -> tuple[ErrorReply, int]:
    err = as_protocol_error(exc, request)
    body = ErrorBody(code=err.code, message=err.message, action=err.action, detail=dict(err.detail))
    return ErrorReply(error=body, request=request.state.get(DIGEST_STATE)), err.status


def handle_exception(request: Request, exc: Exception) -> Response:
    """The app's one exception handler."""
    reply, status = error_reply(exc, request)
    ctx = request.app.state.get("ctx")
    if ctx is not None and request.url.path.startswith("/v1/"):
        ctx.metrics.answered(request.url.path.removeprefix("/v1/"), reply.error.code)
    if ctx is None:  # not started (or already stopped): nothing to sign with
        return Response(content=codec.encode(reply), status_code=503 if status == 500 else status, media_type=MEDIA_TYPE)
    return signed(ctx.key, reply, status)


async def read_payload(request: Request) -> bytes:
    """The raw request body, remembered by digest so an error reply can name it."""
    body = await request.body()
    if body:  # an empty request has no body to name: its error says request null
        request.state[DIGEST_STATE] = codec.digest(body)
    return body
