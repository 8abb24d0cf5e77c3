"""The public pages under ``/public``: what residents read without signing in (each
community's monthly board, printable on A4; the receipt check; the handling log of residents' letters and
requests, 书记信箱 and 村民说事, with its monthly figures and the residents' ratings), in Chinese by default and English by the
console's language link. A shell like the console's over ``server.services``: the shell
is ``server.public.web`` (rendering, errors, the per-address allowance); the words are
``server.public.i18n``; templates and the style sheet are served from this package.

``ROUTES`` is what ``server.app.create_app`` mounts: the router of every public page and
the static files. A new public page is a ``Controller`` listed in ``PAGES``."""

from litestar import Router
from litestar.static_files import create_static_files_router

from server.console import web as console_web
from server.public import web
from server.public.boards import BoardPages
from server.public.check import CheckPages
from server.public.voice import VoicePublicPages

#: every public page's controller (each carries its own path)
PAGES: list = [BoardPages, CheckPages, VoicePublicPages]


def router() -> Router:
    """Every public page, with the per-address allowance spent before its handler, the
    console's security headers and the public error pages."""
    return Router(
        path="/",
        route_handlers=PAGES,
        before_request=web.spend_allowance,
        after_request=console_web.add_headers,
        exception_handlers={Exception: web.handle_error},
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(path=web.STATIC_PATH, directories=[web.HERE / "static"], name="public_static",
                                      after_request=console_web.add_headers, include_in_schema=False,
                                      send_as_attachment=False)


ROUTES: list[Router] = [router(), static_router()]
