"""The console's shell: what every staff page shares, so a page is a controller calling one
use case and a template showing its result.

* **Session**: the staff bearer token of ``server.services.staff.sign_in`` kept in an
  HttpOnly, SameSite=Strict cookie (Secure over TLS); every page authenticates it through
  ``staff.authenticate``, the check the API makes. No session of its own.
* **CSRF**: every non-GET request carries ``_csrf`` (form field) or ``X-CSRF-Token``
  (htmx, from the ``hx-headers`` of ``<body>``) equal to a digest of the session token (or,
  before sign-in, to a random pre-session cookie); anything else is refused before its
  handler runs (``check_csrf``).
* **Headers**: a Content-Security-Policy allowing only this server's own files (no inline
  scripts or styles: htmx is configured by a ``<meta>``), no framing, no referrer.
* **Errors**: a use case's refusal is shown as a page in the staff member's language
  (``error_text``); no session sends a page request to the sign-in page.
* **Pages**: ``Page`` (the ``page`` dependency) carries who is asking, the language, the
  CSRF token and the clock; ``page.render(template, **data)`` adds the navigation (only
  what the role may use, ``NAV``) and the helpers templates use (``t``, ``when``, ``ago``).
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from litestar import Request, Response
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from server.console import i18n
from server.errors import Conflict, Forbidden, Invalid, LedgerBehind, NotFound, SignInLocked, StaffError, Unauthorized
from server.services import staff
from server.services.context import Context
from server.services.staff import Principal
from sync import codec, humantime

log = logging.getLogger("jifen.console")

HERE = Path(__file__).parent
SESSION_COOKIE = "jifen_session"
PRESESSION_COOKIE = "jifen_presession"
LANG_COOKIE = "jifen_lang"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
SIGNIN_PATH = "/signin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation: shown when the role holds ``permission``."""

    key: str  # i18n key of its label
    href: str
    permission: str


#: The navigation, in order. A new page appends its entry (server.console.pages).
NAV: list[NavItem] = []


def csrf_of(secret: str) -> str:
    """The CSRF token for a session (or pre-session) secret: a digest, so the token in a
    form never reveals the cookie."""
    return codec.digest(b"jifen-console-csrf\0" + secret.encode("utf-8", "replace"))


def lang_of(request: Request) -> str:
    return i18n.resolve_lang(request.cookies.get(LANG_COOKIE))


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def session_cookie(request: Request, token: str, max_age: int | None = None) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=token, path="/", httponly=True, samesite="strict",
                  secure=is_tls(request), max_age=max_age)


def cleared(key: str, request: Request) -> Cookie:
    return Cookie(key=key, value="", path="/", httponly=True, samesite="strict", secure=is_tls(request), max_age=0)


@dataclass(frozen=True)
class Page:
    """What a page handler gets: the context, who is asking, and how to answer."""

    ctx: Context
    who: Principal
    lang: str
    csrf: str
    path: str

    def t(self, key: str, **fields) -> str:
        return i18n.t(key, self.lang, **fields)

    def now(self) -> int:
        return self.ctx.now()

    def render(self, template: str, status_code: int = 200, **data) -> Template:
        return Template(template, context=base_context(self.lang, self.csrf, self.now(), self.who, self.path) | data,
                        status_code=status_code)


def base_context(lang: str, csrf: str, now: int, who: Principal | None, path: str) -> dict:
    nav = [n for n in NAV if who is not None and who.can(n.permission)]
    return {
        "lang": lang, "csrf": csrf, "csrf_field": CSRF_FIELD, "who": who, "nav": nav, "path": path,
        "t": lambda key, **f: i18n.t(key, lang, **f),
        "when": lambda ms: humantime.written(ms, lang),
        "day": lambda ms: humantime.day_written(ms, lang),
        "ago": lambda ms: humantime.ago(ms, now, lang),
        "month_name": lambda m: humantime.month_written(m, lang),
        "role_name": lambda role: i18n.t(f"role_{role}", lang),
    }


def provide_page(request: Request) -> Page:
    """The ``page`` dependency: the signed-in staff member (``Unauthorized`` otherwise,
    which sends the browser to the sign-in page)."""
    ctx = request.app.state.ctx
    token = request.cookies.get(SESSION_COOKIE)
    who = staff.authenticate(ctx, token)
    return Page(ctx, who, lang_of(request), csrf_of(token), request.url.path)


# ---------------------------------------------------------------- hooks


class CsrfRefused(StaffError):
    """A non-GET console request without the CSRF token of its session: 403 forbidden."""

    def __init__(self):
        super().__init__("forbidden", "the form's CSRF token is missing or wrong; reload the page")


def expected_csrf(request: Request) -> str | None:
    secret = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRESESSION_COOKIE)
    return csrf_of(secret) if secret else None


async def check_csrf(request: Request) -> None:
    """Before every console handler: a non-GET request must carry its session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(CSRF_FIELD)
    want = expected_csrf(request)
    if not sent or want is None or not _equal(sent, want):
        raise CsrfRefused()


def _equal(a: str, b: str) -> bool:
    import hmac  # constant-time comparison

    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


async def add_headers(response: Response) -> Response:
    for k, v in HEADERS.items():
        response.headers.setdefault(k, v)
    return response


def presession(request: Request) -> tuple[str, Cookie | None]:
    """The pre-session secret of a browser that is not signed in (made if it has none):
    the sign-in form's CSRF token is derived from it."""
    secret = request.cookies.get(PRESESSION_COOKIE)
    if secret:
        return secret, None
    secret = os.urandom(16).hex()
    return secret, Cookie(key=PRESESSION_COOKIE, value=secret, path="/", httponly=True, samesite="strict", secure=is_tls(request))


def signin_page(request: Request, error: str | None = None, status_code: int = 200, notice: str | None = None) -> Template:
    lang = lang_of(request)
    secret, cookie = presession(request)
    ctx = request.app.state.ctx
    nxt = safe_next(request.query_params.get("next"))
    data = base_context(lang, csrf_of(secret), ctx.now(), None, SIGNIN_PATH) | {"error": error, "notice": notice, "next": nxt}
    return Template("signin.html", context=data, status_code=status_code, cookies=[cookie] if cookie else None)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# ---------------------------------------------------------------- errors


def error_text(exc: Exception, lang: str) -> str:
    """A use case's refusal in the staff member's words: built from its code and detail,
    never its English message."""
    def t(message, **f):
        return i18n.t(message, lang, **f)

    if isinstance(exc, CsrfRefused):
        return t("err_csrf")
    if isinstance(exc, SignInLocked):
        return t("signin_locked", seconds=exc.detail.get("retry_after_ms", 0) // 1000 + 1)
    if isinstance(exc, Unauthorized):
        return t("session_over")
    if isinstance(exc, Forbidden):
        return t("err_forbidden")
    if isinstance(exc, NotFound):
        key = "what_" + exc.what.replace(" ", "_")
        return t("err_not_found", what=t(key) if i18n.has(key) else "", name=exc.key)
    if isinstance(exc, LedgerBehind):
        return t("err_ledger_behind", behind=exc.detail.get("behind", "?"))
    if isinstance(exc, Conflict):
        state = exc.detail.get("state")
        if state in ("resolved", "pending"):
            return t(f"err_review_{state}", review=exc.detail.get("review"), by=exc.detail.get("by") or "—")
        if exc.detail.get("item") and state in ("open", "assigned"):
            return t("err_voice_no_reply")
        if exc.detail.get("item") and state == "done":
            return t("err_voice_closed")
        return t("err_conflict")
    if isinstance(exc, Invalid):
        return t("err_invalid", what=t(INVALID_WORDS.get(exc.detail.get("field", ""), "invalid_other")))
    if isinstance(exc, HTTPException) and exc.status_code == 404:
        return t("err_not_found_plain")
    return t("err_internal")


#: an ``Invalid``'s ``field`` detail -> the i18n key that names what to fix
INVALID_WORDS = {"note": "invalid_note", "points": "invalid_points", "action": "invalid_action"}


def handle_error(request: Request, exc: Exception) -> Response:
    """The console's exception handler: no session -> the sign-in page (htmx: HX-Redirect);
    a refusal -> an error page in the staff member's words, with its status."""
    lang = lang_of(request)
    if isinstance(exc, (Unauthorized, SignInLocked)) and request.url.path == SIGNIN_PATH:
        key = "signin_failed" if isinstance(exc, Unauthorized) else None
        text = i18n.t(key, lang) if key else error_text(exc, lang)
        return signin_page(request, text, exc.status)
    if isinstance(exc, Unauthorized):
        target = SIGNIN_PATH + "?next=" + quote(request.url.path if request.method == "GET" else "/", safe="/")
        if request.headers.get("hx-request"):
            return Response(content=b"", status_code=200, headers={"HX-Redirect": target})
        return Redirect(target, status_code=303, cookies=[cleared(SESSION_COOKIE, request)])
    status = status_of(exc, log, "console page failed")
    ctx = request.app.state.ctx
    who = None
    token = request.cookies.get(SESSION_COOKIE)
    if token and not isinstance(exc, Unauthorized):
        who = _quiet_who(ctx, token)
    csrf = csrf_of(token) if token else ""
    data = base_context(lang, csrf, ctx.now(), who, request.url.path) | {"message": error_text(exc, lang)}
    template = "error_fragment.html" if request.headers.get("hx-request") else "error.html"
    return Template(template, context=data, status_code=status)


def status_of(exc: Exception, logger: logging.Logger, what: str) -> int:
    """The status a page answers a refusal with (a use case's, or the router's below
    500); anything else is a bug: logged to ``logger`` as ``what`` and answered 500. The
    public pages' handler (``server.public.web``) shares it."""
    if isinstance(exc, StaffError):
        return exc.status
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return exc.status_code
    logger.exception(what, exc_info=exc)
    return 500


def _quiet_who(ctx: Context, token: str) -> Principal | None:
    """Who to show in the error page's navigation; None if the token no longer works."""
    try:
        return staff.authenticate(ctx, token)
    except Unauthorized:
        return None


# ---------------------------------------------------------------- templates


def template_config(prefixed: dict[str, Path] | None = None) -> TemplateConfig:
    """The app's one template engine: the console's templates by their names, and each
    folder of ``prefixed`` under its prefix (the public pages': ``public/base.html``)."""
    loader = FileSystemLoader(HERE / "templates")
    if prefixed:
        loader = ChoiceLoader([loader, PrefixLoader({p: FileSystemLoader(d) for p, d in prefixed.items()})])
    env = Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(env))
