"""The HTTP app: where handlers, lifespan, dependencies and the exception handler meet.

Controllers are thin: raw bytes and headers in, one service call, a signed reply out.
Handlers that touch the database or verify signatures are blocking, so they run in
worker threads (``sync_to_thread=True``); the store's lock serialises their writes.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import time

import anyio
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components

from server.headers import security_headers
from server import console, public
from server.metrics import metrics
from server.console.web import template_config
from server.public import web as public_web
from server.replies import handle_exception, read_payload, signed
from server.services import Context, dashboard, open_context, tree
from server.services.enroll import enroll
from server.services.lookup import history, lookup, resident_lookup
from server.services.pull import pull
from server.services.push import push
from server.services.rotate import rotate
from server.settings import Settings
from server.staff.api import HANDLERS as STAFF_HANDLERS
from server.staff.api import SECURITY_SCHEMES as STAFF_SECURITY_SCHEMES
from server.staff.tick import periodic
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE, PROTOCOL_VERSION

#: Request headers worth keeping with a quarantined batch.
KEPT_HEADERS = (HEADER_KIOSK, HEADER_SIGNATURE, "Jifen-Version", "User-Agent", "Content-Type", "Content-Length")


def kept_headers(request: Request) -> dict[str, str]:
    return {h: request.headers[h] for h in KEPT_HEADERS if h in request.headers}


def client_address(request: Request) -> str | None:
    """The socket's peer (or, behind a proxy named in settings.forwarded_allow_ips, the
    address it forwards): what the unverified allowance and the sign-in lockout key on."""
    return request.client.host if request.client else None


async def rate_limit(request: Request) -> None:
    """Before a push, pull, rotate, lookup or history: refuse an address that spent its unverified allowance
    (server.ratelimit), before any signature work. The body is read first so that a 429
    names the request it answers, like every error. The kiosk's own allowance is spent by
    the use case, once the signature verifies."""
    await read_payload(request)
    ctx = request.app.state.ctx
    ctx.limits.screen(client_address(request))


def signed_answer(ctx: Context, use_case, payload: bytes, request: Request) -> Response:
    """A signed request's use case (pull, rotate, lookup, history) called with the kiosk's
    headers and address, its reply signed."""
    h, started = request.headers, time.perf_counter()
    reply = use_case(ctx, h.get(HEADER_KIOSK), h.get(HEADER_SIGNATURE), payload, client_address(request))
    ctx.metrics.answered(request.url.path.removeprefix("/v1/"), "ok", time.perf_counter() - started)
    return signed(ctx.key, reply)


class KioskApi(Controller):
    """The kiosk-facing protocol, /v1 (docs/PROTOCOL.md)."""

    path = "/v1"

    @post("/enroll", sync_to_thread=True, status_code=200)
    def enroll(self, ctx: NamedDependency[Context], payload: NamedDependency[bytes]) -> Response:
        return signed(ctx.key, enroll(ctx, payload))

    @post("/push", sync_to_thread=True, status_code=200, before_request=rate_limit)
    def push(self, ctx: NamedDependency[Context], payload: NamedDependency[bytes], request: Request) -> Response:
        h, started = request.headers, time.perf_counter()
        outcome = push(ctx, h.get(HEADER_KIOSK), h.get(HEADER_SIGNATURE), payload, kept_headers(request), client_address(request))
        ctx.metrics.answered("push", outcome.reply.status, time.perf_counter() - started)
        return signed(ctx.key, outcome.reply, outcome.status_code)

    @post("/pull", sync_to_thread=True, status_code=200, before_request=rate_limit)
    def pull(self, ctx: NamedDependency[Context], payload: NamedDependency[bytes], request: Request) -> Response:
        return signed_answer(ctx, pull, payload, request)

    @post("/rotate", sync_to_thread=True, status_code=200, before_request=rate_limit)
    def rotate(self, ctx: NamedDependency[Context], payload: NamedDependency[bytes], request: Request) -> Response:
        return signed_answer(ctx, rotate, payload, request)

    @post("/lookup", sync_to_thread=True, status_code=200, before_request=rate_limit)
    def lookup(self, ctx: NamedDependency[Context], payload: NamedDependency[bytes], request: Request) -> Response:
        return signed_answer(ctx, lookup, payload, request)

    @post("/lookup/resident", sync_to_thread=True, status_code=200, before_request=rate_limit)
    def resident_lookup(self, ctx: NamedDependency[Context], payload: NamedDependency[bytes], request: Request) -> Response:
        """A resident of any county, as a statement signed by the server key (docs/PROTOCOL.md § 4.7)."""
        return signed_answer(ctx, resident_lookup, payload, request)

    @post("/history", sync_to_thread=True, status_code=200, before_request=rate_limit)
    def history(self, ctx: NamedDependency[Context], payload: NamedDependency[bytes], request: Request) -> Response:
        return signed_answer(ctx, history, payload, request)

    @get("/log/consistency", sync_to_thread=True, before_request=rate_limit)
    def log_consistency(self, ctx: NamedDependency[Context], old: FromQuery[int], new: FromQuery[int]) -> Response:
        """The Merkle log's consistency proof between two tree sizes (docs/PROTOCOL.md § 13)."""
        return signed(ctx.key, tree.consistency(ctx, old, new))

    @get("/log/inclusion", sync_to_thread=True, before_request=rate_limit)
    def log_inclusion(self, ctx: NamedDependency[Context], kiosk: FromQuery[str], seq: FromQuery[int],
                      size: FromQuery[int | None] = None) -> Response:
        """One batch's inclusion proof in the tree of ``size`` leaves (default: the newest signed)."""
        return signed(ctx.key, tree.inclusion(ctx, kiosk, seq, size))

    @get("/health", sync_to_thread=False)
    def health(self, ctx: NamedDependency[Context]) -> Response:
        return signed(ctx.key, {"ok": True, "server_key": ctx.key.public_hex, "v": PROTOCOL_VERSION})


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def open_data(app: Litestar) -> AsyncIterator[None]:
        # Opening migrates the database and may create the key file: blocking work.
        ctx = await anyio.to_thread.run_sync(open_context, settings)
        ctx.metrics.watch(lambda: dashboard.fleet_gauges(ctx), ctx.now, ctx.store.dialect)
        ctx.start_projector()  # settings.projection = background: the ledger follows the log behind
        app.state.ctx = ctx
        try:
            yield
        finally:
            app.state.ctx = None
            ctx.close()

    async def provide_ctx(request: Request) -> Context:
        return request.app.state.ctx

    app = Litestar(
        # staff API: /api (server.staff.api); the staff console: / and /static (server.console);
        # /metrics (server.metrics); the public pages: /public (server.public)
        route_handlers=[KioskApi, *STAFF_HANDLERS, console.router(), console.static_router(), metrics, *public.ROUTES],
        lifespan=[open_data, periodic],
        dependencies={"ctx": Provide(provide_ctx), "payload": Provide(read_payload)},
        exception_handlers={Exception: handle_exception},
        request_max_body_size=settings.max_body_bytes,
        template_config=template_config({public_web.TEMPLATE_PREFIX: public_web.TEMPLATES}),
        # The schema only, at /schema/openapi.json: the documentation pages Litestar offers
        # load their scripts from a public CDN, and a server may have no internet.
        openapi_config=OpenAPIConfig(title="jifen", version="1", path="/schema", render_plugins=[JsonRenderPlugin()],
                                     components=Components(security_schemes=STAFF_SECURITY_SCHEMES)),
        before_send=[security_headers],  # server.headers: CSP, nosniff, no framing, no-store unless a response sets its own
        debug=False,
    )
    return app
