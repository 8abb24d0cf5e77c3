"""Reference data pages: rules (a change from an effective date, and each rule's history),
goods and prices, shops, communities, operators (a new PIN shown once, retiring), and
kiosks (an enrolment code, a forced re-key, revoking). Everyone who reads reports sees the
tables; only roles holding ``catalog.write`` / ``kiosk.manage`` see the forms, and the use
cases of ``server.services.manage``, ``enroll`` and ``rotate`` check the same again."""

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.console import web
from server.console.pages.forms import Form, integer, local_time, optional_integer, text
from server.errors import Invalid
from server.services import enroll, manage, rotate
from sync import humantime

TABLES = ("rules", "goods", "shops", "communities", "operators", "kiosks")

web.NAV.append(web.NavItem("nav_reference", "/reference", "report.read"))


def _table(what: str) -> str:
    if what not in TABLES:
        raise Invalid("no such table", field="table")
    return what


def _when(page: web.Page, ms: int) -> str:
    return humantime.written(ms, page.lang)


def _page(page: web.Page, what: str, notice: str | None = None, secret: dict | None = None) -> Template:
    rows = manage.list_reference(page.ctx, page.who, what)
    shops = manage.list_reference(page.ctx, page.who, "shops") if what in ("operators", "kiosks") else []
    return page.render("pages/reference.html", what=what, tables=TABLES, rows=rows, shops=shops,
                       notice=notice, secret=secret)


class ReferencePages(Controller):
    path = "/reference"

    @get("/", sync_to_thread=True)
    def table(self, request: Request, page: NamedDependency[web.Page]) -> Template:
        """``?table=`` one of ``TABLES`` (a query, not ``/{table}``: the forms post below those paths)."""
        return _page(page, _table(request.query_params.get("table") or "rules"))

    # ---- rules

    @post("/rules", sync_to_thread=True, status_code=200)
    def change_rule(self, page: NamedDependency[web.Page], data: Form) -> Template:
        fields = {"name": text(data, "name"), "kind": text(data, "kind"), "points": integer(data, "points"),
                  "cap_day": optional_integer(data, "cap_day"), "cap_month": optional_integer(data, "cap_month"),
                  "status": text(data, "status") or "active"}
        out = manage.change_rule(page.ctx, page.who, text(data, "code"), fields, local_time(data, "effective_at"))
        key = "ref_rule_applied" if out["applied"] else "ref_rule_scheduled"
        return _page(page, "rules", page.t(key, rule=out["rule"], when=_when(page, out["effective_at"])))

    @get("/rules/{code:str}/history", sync_to_thread=True)
    def rule_history(self, page: NamedDependency[web.Page], code: FromPath[str]) -> Template:
        return page.render("pages/rule_history.html", code=code, changes=manage.rule_history(page.ctx, page.who, code))

    # ---- goods, shops, communities

    @post("/goods", sync_to_thread=True, status_code=200)
    def put_good(self, page: NamedDependency[web.Page], data: Form) -> Template:
        out = manage.put_good(page.ctx, page.who, text(data, "sku"), text(data, "name"), text(data, "unit"),
                              integer(data, "price"), text(data, "status") or "active")
        return _page(page, "goods", page.t("ref_saved", item=out["good"]))

    @post("/goods/{sku:str}/retire", sync_to_thread=True, status_code=200)
    def retire_good(self, page: NamedDependency[web.Page], sku: FromPath[str]) -> Template:
        out = manage.retire_good(page.ctx, page.who, sku)
        return _page(page, "goods", page.t("ref_retired", item=out["good"]))

    @post("/shops", sync_to_thread=True, status_code=200)
    def put_shop(self, page: NamedDependency[web.Page], data: Form) -> Template:
        out = manage.put_shop(page.ctx, page.who, text(data, "id"), text(data, "name"), text(data, "community"),
                              text(data, "kind"))
        return _page(page, "shops", page.t("ref_saved", item=out["shop"]))

    @post("/communities", sync_to_thread=True, status_code=200)
    def put_community(self, page: NamedDependency[web.Page], data: Form) -> Template:
        out = manage.put_community(page.ctx, page.who, text(data, "id"), text(data, "name"), text(data, "street"))
        return _page(page, "communities", page.t("ref_saved", item=out["community"]))

    # ---- operators

    @post("/operators", sync_to_thread=True, status_code=200)
    def put_operator(self, page: NamedDependency[web.Page], data: Form) -> Template:
        out = manage.put_operator(page.ctx, page.who, text(data, "id"), text(data, "shop"), text(data, "name"),
                                  text(data, "role") or "operator", text(data, "pin") or None,
                                  text(data, "status") or "active")
        return _page(page, "operators", page.t("ref_saved", item=out["operator"]))

    @post("/operators/{op_id:str}/pin", sync_to_thread=True, status_code=200)
    def reset_pin(self, page: NamedDependency[web.Page], op_id: FromPath[str]) -> Template:
        out = manage.reset_operator_pin(page.ctx, page.who, op_id)
        return _page(page, "operators", secret={"label": page.t("ref_new_pin", operator=out["operator"]),
                                                "value": out["pin"], "hint": page.t("ref_shown_once")})

    @post("/operators/{op_id:str}/retire", sync_to_thread=True, status_code=200)
    def retire_operator(self, page: NamedDependency[web.Page], op_id: FromPath[str]) -> Template:
        out = manage.retire_operator(page.ctx, page.who, op_id)
        return _page(page, "operators", page.t("ref_retired", item=out["operator"]))

    # ---- kiosks

    @post("/kiosks/code", sync_to_thread=True, status_code=200)
    def enroll_code(self, page: NamedDependency[web.Page], data: Form) -> Template:
        out = enroll.enroll_code(page.ctx, page.who, text(data, "shop"))
        return _page(page, "kiosks", secret={"label": page.t("ref_enroll_code", shop=out["shop"]), "value": out["code"],
                                             "hint": page.t("ref_code_until", when=_when(page, out["expires_at"]))})

    @post("/kiosks/{kiosk:str}/rekey", sync_to_thread=True, status_code=200)
    def force_rekey(self, page: NamedDependency[web.Page], kiosk: FromPath[str]) -> Template:
        out = rotate.force_rotate(page.ctx, page.who, kiosk)
        return _page(page, "kiosks", secret={"label": page.t("ref_rekey_code", kiosk=out["kiosk"]), "value": out["code"],
                                             "hint": page.t("ref_code_until", when=_when(page, out["expires_at"]))})

    @post("/kiosks/{kiosk:str}/revoke", sync_to_thread=True, status_code=200)
    def revoke(self, page: NamedDependency[web.Page], kiosk: FromPath[str]) -> Template:
        out = manage.revoke_kiosk(page.ctx, page.who, kiosk)
        return _page(page, "kiosks", page.t("ref_revoked", item=out["kiosk"]))
