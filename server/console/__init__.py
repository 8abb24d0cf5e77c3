"""The staff web console at ``/``: server-rendered pages (Jinja2) with htmx for partial
updates, a shell like the API over the same use cases (``server.services``). The shell is
``server.console.web``; the pages are ``server.console.pages``; the words are
``server.console.i18n``; htmx and the style sheet are served from ``static/``."""

from litestar import Router
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from server.console import web
from server.console.pages import PAGES

STATIC_PATH = "/static"


def router() -> Router:
    """Every console page under ``/``, with the console's CSRF check, headers and errors."""
    return Router(
        path="/",
        route_handlers=PAGES,
        dependencies={"page": Provide(web.provide_page, sync_to_thread=True)},
        before_request=web.check_csrf,
        after_request=web.add_headers,
        exception_handlers={Exception: web.handle_error},
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(path=STATIC_PATH, directories=[web.HERE / "static"], name="console_static",
                                      after_request=web.add_headers, include_in_schema=False,
                                      send_as_attachment=False)
