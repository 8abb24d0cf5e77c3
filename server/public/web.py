"""The public pages' shell: what every page residents read without signing in shares, so
a page is a controller calling one use case and a template showing its result.

* **Allowance**: every request spends one token of its client address
  (``server.ratelimit.PageLimit``) before its handler runs; a spent address is answered
  ``429`` with a ``Retry-After`` and a page saying when to come back.
* **Words**: ``server.public.i18n``, Chinese unless the browser chose English with the
  console's language link (``/lang/{lang}``, the same cookie).
* **Headers**: the console's (``server.console.web.add_headers``): a Content-Security-Policy
  allowing only this server's own files, no framing, no referrer, no-store. The pages
  have no script at all.
* **Errors**: a use case's refusal is a page in the reader's words with its status
  (``error_text``): a month with no published board, an unknown community, a month not
  written ``YYYY-MM``, a rating with wrong phone digits; never a traceback or the use case's English message.
* **Templates** live in ``templates/`` (named ``public/<file>`` in the app's one template
  engine, ``server.console.web.template_config``) and extend ``public/base.html``, whose
  style sheet (``static/public.css``, at ``STATIC_PATH``) prints on A4.
"""

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template

from server.console import web as console_web
from server.errors import Conflict, Invalid, NotFound, PagesLimited, PublicRatingRefused
from server.public import i18n
from server.services import reports
from sync.protocol import ReceiptRefused
from sync import humantime

log = logging.getLogger("jifen.public")

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
#: the prefix of the public templates' names in the app's template engine
TEMPLATE_PREFIX = "public"
STATIC_PATH = "/public/static"


def lang_of(request: Request) -> str:
    return i18n.resolve_lang(request.cookies.get(console_web.LANG_COOKIE))


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def render(request: Request, template: str, status_code: int = 200, headers: dict[str, str] | None = None,
           **data) -> Template:
    """``templates/<template>`` with the helpers every public page uses: ``t``,
    ``month_name``, ``when`` and the language link back to this page."""
    lang = lang_of(request)
    other = "en" if lang == "zh" else "zh"
    base = {
        "lang": lang, "path": request.url.path, "static": STATIC_PATH,
        "lang_href": f"/lang/{other}?next={quote(request.url.path, safe='/')}",
        "t": lambda key, **f: i18n.t(key, lang, **f),
        "month_name": lambda m: humantime.month_written(m, lang),
        "when": lambda ms: humantime.written(ms, lang),
    }
    return Template(f"{TEMPLATE_PREFIX}/{template}", context=base | data, status_code=status_code, headers=headers)


async def spend_allowance(request: Request) -> None:
    """Before every public handler: one token of the client address, or ``PagesLimited``."""
    request.app.state.ctx.pages.spend(client_address(request))


# ---------------------------------------------------------------- errors


def error_text(exc: Exception, lang: str, community_name: Callable[[str], str] = str) -> str:
    """A refusal in the reader's words, from its class and detail (never its English
    message); ``community_name`` names a community by its id."""
    def t(key, **f):
        return i18n.t(key, lang, **f)

    if isinstance(exc, PagesLimited):
        return t("err_limited", seconds=_seconds(exc))
    if isinstance(exc, ReceiptRefused) and i18n.has("err_" + exc.code):
        return t("err_" + exc.code, **exc.detail)
    if isinstance(exc, NotFound) and exc.what == "board":
        community, _, month = str(exc.key).partition("/")
        return t("err_no_board", community=community_name(community), month=humantime.month_written(month, lang))
    if isinstance(exc, NotFound) and exc.what == "community":
        return t("err_no_community", community=exc.key)
    if isinstance(exc, NotFound) and exc.what == "voice item":
        return t("err_no_voice", code=exc.key)
    if isinstance(exc, PublicRatingRefused):
        return t({"wrong_phone": "err_phone_wrong", "locked": "err_rate_locked"}.get(exc.reason, "err_rate_no_phone"),
                 tries_left=exc.detail.get("tries_left", 0))
    if isinstance(exc, Conflict) and exc.detail.get("item"):
        return t("err_voice_rated" if exc.detail.get("state") == "rated" else "err_voice_not_done")
    if isinstance(exc, Invalid) and exc.detail.get("field") == "code":
        return t("err_voice_code", code=exc.detail.get("item", ""))
    if isinstance(exc, Invalid) and exc.detail.get("field") == "phone_tail":
        return t("err_phone_tail")
    if isinstance(exc, Invalid) and exc.detail.get("field") == "stars":
        return t("err_stars")
    if isinstance(exc, Invalid) and "month" in exc.detail:
        return t("err_month", month=exc.detail["month"])
    if isinstance(exc, Invalid) and "community" in exc.detail:
        return t("err_community", community=exc.detail["community"])
    if isinstance(exc, Invalid):
        return t("err_invalid")
    if isinstance(exc, NotFound) or (isinstance(exc, HTTPException) and exc.status_code == 404):
        return t("err_not_found")
    return t("err_internal")


def _seconds(exc: PagesLimited) -> int:
    """Whole seconds until the address has a token again (rounded up)."""
    return max(1, -(-exc.detail.get("retry_after_ms", 0) // 1000))


def handle_error(request: Request, exc: Exception) -> Response:
    """The public pages' exception handler: an error page in the reader's words, with its
    status (and ``Retry-After`` when the address spent its allowance)."""
    status = exc.status if isinstance(exc, ReceiptRefused) else console_web.status_of(exc, log, "public page failed")
    headers = {"Retry-After": str(_seconds(exc))} if isinstance(exc, PagesLimited) else None
    ctx = request.app.state.ctx
    text = error_text(exc, lang_of(request), lambda community: reports.community_name(ctx, community))
    return render(request, "error.html", status_code=status, headers=headers, message=text,
                  retry=isinstance(exc, ReceiptRefused))
