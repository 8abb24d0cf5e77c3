"""Staff accounts: the list with roles and community scopes, adding an account (a
generated password shown once), disabling one, the sign-in lockouts in force, changing a
password (your own with the current one, or an admin for anyone), and the audit log of
staff actions with filters — each through ``server.services.staff``."""

import json

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.console import i18n, web
from server.console.pages.forms import Form, text
from server.services import staff

#: rows of the audit log a page shows, newest first
AUDIT_PAGE = 200

web.NAV.append(web.NavItem("nav_staff", "/staff", "staff.manage"))
web.NAV.append(web.NavItem("nav_audit", "/audit", "audit.read"))
web.NAV.append(web.NavItem("nav_password", "/password", "report.read"))  # every role


def _communities(value: str) -> list[str]:
    return [c for c in value.replace("，", ",").replace(" ", ",").split(",") if c]


def _staff_page(page: web.Page, notice: str | None = None, secret: dict | None = None) -> Template:
    accounts = staff.list_staff(page.ctx, page.who)
    locks = staff.sign_in_lockouts(page.ctx, page.who)
    return page.render("pages/staff.html", accounts=accounts, locks=locks, roles=staff.ROLES, notice=notice, secret=secret)


class AccountPages(Controller):
    path = "/"

    @get("/staff", sync_to_thread=True)
    def accounts(self, page: NamedDependency[web.Page]) -> Template:
        staff.require(page.who, "staff.manage")
        return _staff_page(page)

    @post("/staff", sync_to_thread=True, status_code=200)
    def add(self, page: NamedDependency[web.Page], data: Form) -> Template:
        out = staff.add_staff(page.ctx, page.who, text(data, "username"), text(data, "role"),
                              data.get("password") or None, _communities(text(data, "communities")))
        if "password" in out:
            return _staff_page(page, secret={"label": page.t("acc_new_password", username=out["username"]),
                                             "value": out["password"], "hint": page.t("ref_shown_once")})
        return _staff_page(page, page.t("acc_added", username=out["username"]))

    @post("/staff/{username:str}/disable", sync_to_thread=True, status_code=200)
    def disable(self, page: NamedDependency[web.Page], username: FromPath[str]) -> Template:
        out = staff.disable_staff(page.ctx, page.who, username)
        return _staff_page(page, page.t("acc_disabled", username=out["username"], n=out["tokens_revoked"]))

    @get("/password", sync_to_thread=False)
    def password_form(self, page: NamedDependency[web.Page]) -> Template:
        return page.render("pages/password.html", notice=None)

    @post("/password", sync_to_thread=True, status_code=200)
    def change_password(self, request: Request, page: NamedDependency[web.Page], data: Form) -> Template:
        """Every token of the account is revoked, this one too: the page says to sign in again."""
        username = text(data, "username") or page.who.username
        if data.get("password", "") != data.get("repeat", ""):
            return page.render("pages/password.html", notice=None, error=page.t("acc_repeat_differs"), status_code=400)
        out = staff.set_password(page.ctx, page.who, username, data.get("password", ""), data.get("current"))
        if username == page.who.username:
            out_page = web.signin_page(request, notice=page.t("acc_password_changed_own"))
            out_page.cookies.append(web.cleared(web.SESSION_COOKIE, request))
            return out_page
        return page.render("pages/password.html", notice=page.t("acc_password_changed", username=out["username"]))

    @get("/audit", sync_to_thread=True)
    def audit(self, request: Request, page: NamedDependency[web.Page]) -> Template:
        who = request.query_params.get("staff") or None
        action = request.query_params.get("action") or None
        rows = staff.audit_log(page.ctx, page.who, who, action, 0, 10_000)
        return page.render("pages/audit.html", rows=list(reversed(rows[-AUDIT_PAGE:])), total=len(rows),
                           staff_filter=who or "", action_filter=action or "", has_word=i18n.has,
                           detail=lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True))
