"""Staff accounts: the list with roles and community scopes, adding an account (a
generated password shown once), disabling one, the sign-in lockouts in force, changing a
password (your own with the current one, or an admin for anyone), and the audit log of
staff actions with filters — each through ``server.services.staff``."""

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.console import i18n, web
from server.console.pages.forms import Form, text
from server.services import staff
from sync import humantime

#: rows of the audit log a page shows, newest first
AUDIT_PAGE = 200

web.NAV.append(web.NavItem("nav_staff", "/staff", "staff.manage"))
web.NAV.append(web.NavItem("nav_audit", "/audit", "audit.read"))
web.NAV.append(web.NavItem("nav_password", "/password", "report.read"))  # every role


#: detail fields that hold a time (UTC ms), and where a value's words are: field -> i18n key prefixes, tried in order
TIME_FIELDS = frozenset({"expires_at", "effective_at"})
VALUE_WORDS = {"role": ("role_",), "action": ("action_",), "outcome": ("aud_outcome_",),
               "status": ("status_", "acc_status_"), "was": ("status_", "acc_status_"),
               "kind": ("kind_", "rule_kind_", "shop_kind_")}


def audit_detail(action: str, detail: dict, lang: str) -> str:
    """An audit row's detail in words: each field that says something, as "label: value"
    in ``lang`` (times written as people write them, yes/no, roles, review actions and
    kinds by their names, a rule change's fields one by one); a field the table has no
    word for keeps its name."""
    def t(key: str, **f) -> str:
        return i18n.t(key, lang, **f)

    def value(field: str, v) -> str:
        if isinstance(v, bool):
            return t("aud_yes" if v else "aud_no")
        if field in TIME_FIELDS and isinstance(v, int):
            return humantime.written(v, lang)
        if isinstance(v, dict):
            return "，".join(pairs(v)) if lang == "zh" else ", ".join(pairs(v))
        if isinstance(v, list | tuple):
            if not v:  # an account with no community scope sees them all
                return t("aud_all" if (action, field) == ("staff_add", "communities") else "aud_none")
            return t("aud_list_sep").join(value(field, x) for x in v)
        if field == "head" and isinstance(v, str):
            return v[:12]
        for prefix in VALUE_WORDS.get(field, ()):
            if i18n.has(f"{prefix}{v}"):
                return t(f"{prefix}{v}")
        return str(v)

    def pairs(d: dict) -> list[str]:
        return [t("aud_pair", label=t(f"audf_{k}") if i18n.has(f"audf_{k}") else k, value=value(k, v))
                for k, v in d.items() if v not in (None, "")]

    return t("aud_sep").join(pairs(detail)) if isinstance(detail, dict) else str(detail)


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
        """Newest first, ``AUDIT_PAGE`` rows at a time (``before``: the id the next page starts below)."""
        who = request.query_params.get("staff") or None
        action = request.query_params.get("action") or None
        before = request.query_params.get("before")
        before = int(before) if before and before.isdigit() else None
        out = staff.audit_page(page.ctx, page.who, who, action, before, AUDIT_PAGE + 1)
        rows = out["rows"][:AUDIT_PAGE]
        more = len(out["rows"]) > AUDIT_PAGE
        return page.render("pages/audit.html", rows=rows, total=out["total"], first=before is None,
                           next_before=rows[-1]["id"] if more else None,
                           staff_filter=who or "", action_filter=action or "", has_word=i18n.has,
                           detail=lambda r: audit_detail(r["action"], r["detail"], page.lang))
