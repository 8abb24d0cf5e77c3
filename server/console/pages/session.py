"""Signing in and out of the console, and choosing its language. Sign-in is the API's
``staff.sign_in`` (the same lockout per username and client address); the token it issues
lives in the session cookie; signing out revokes it, or every token of the account."""

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from server.console import i18n, web
from server.services import staff

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class SessionPages(Controller):
    path = "/"

    @get(web.SIGNIN_PATH, sync_to_thread=False)
    def signin_form(self, request: Request) -> Template:
        return web.signin_page(request)

    @post(web.SIGNIN_PATH, sync_to_thread=True, status_code=303)
    def signin(self, request: Request, data: Form) -> Redirect:
        ctx = request.app.state.ctx
        address = request.client.host if request.client else None
        out = staff.sign_in(ctx, data.get("username", "").strip(), data.get("password", ""), address)
        ttl = (out["expires_at"] - ctx.now()) // 1000
        return Redirect(web.safe_next(data.get("next")), status_code=303,
                        cookies=[web.session_cookie(request, out["token"], ttl), web.cleared(web.PRESESSION_COOKIE, request)])

    @post("/signout", sync_to_thread=True, status_code=200)
    def signout(self, request: Request, page: NamedDependency[web.Page]) -> Template:
        staff.sign_out(page.ctx, request.cookies.get(web.SESSION_COOKIE))
        return self._signed_out(request, i18n.t("signed_out", page.lang))

    @post("/signout-everywhere", sync_to_thread=True, status_code=200)
    def signout_everywhere(self, request: Request, page: NamedDependency[web.Page]) -> Template:
        out = staff.sign_out_everywhere(page.ctx, request.cookies.get(web.SESSION_COOKIE))
        return self._signed_out(request, i18n.t("signed_out_everywhere", page.lang, n=out["tokens_revoked"]))

    @staticmethod
    def _signed_out(request: Request, notice: str) -> Template:
        out = web.signin_page(request, notice=notice)
        out.cookies.append(web.cleared(web.SESSION_COOKIE, request))
        return out

    @get("/lang/{lang:str}", sync_to_thread=False, status_code=303)
    def choose_lang(self, request: Request, lang: FromPath[str]) -> Redirect:
        """A link, not a form: it changes only how pages read, for this browser."""
        back = web.safe_next(request.query_params.get("next"))
        return Redirect(back, status_code=303, cookies=[Cookie(key=web.LANG_COOKIE, value=i18n.resolve_lang(lang), path="/",
                                                               samesite="strict", secure=web.is_tls(request),
                                                               max_age=365 * 86400)])
