"""The dashboard page (``/``): ``dashboard.overview``; the audit runs on a button (htmx),
because at city scale it takes longer than a page may."""

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from server.console.web import NAV, NavItem, Page
from server.services import audit, dashboard

NAV.append(NavItem("nav_dashboard", "/", "report.read"))


class DashboardPage(Controller):
    path = "/"

    @get("/", sync_to_thread=True)
    def dashboard(self, page: NamedDependency[Page]) -> Template:
        return page.render("dashboard.html", view=dashboard.overview(page.ctx, page.who))

    @post("/audit", sync_to_thread=True, status_code=200)
    def run_audit(self, page: NamedDependency[Page]) -> Template:
        audit.run_audit(page.ctx, page.who)
        return page.render("audit_fragment.html", result=audit.last_result(page.ctx, page.who), may_run_audit=True)
