"""The residents pages: search (``manage.find_residents``; htmx updates the results as
one types) and a resident's history (``history.resident_history``): where the points went."""

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.console.web import NAV, NavItem, Page
from server.services import history, manage

NAV.append(NavItem("nav_residents", "/residents", "resident.read"))


class ResidentPages(Controller):
    path = "/residents"

    @get("/", sync_to_thread=True)
    def search(self, page: NamedDependency[Page], request: Request, q: FromQuery[str] = "") -> Template:
        found = manage.find_residents(page.ctx, page.who, q)
        template = "residents_results.html" if request.headers.get("hx-request") else "residents.html"
        return page.render(template, q=q, found=found)

    @get("/{card:str}", sync_to_thread=True)
    def resident(self, page: NamedDependency[Page], card: FromPath[str], before: FromQuery[int | None] = None) -> Template:
        """The newest ``history.SHOWN`` entries, then a page at a time (``before``: the posting the next page starts below)."""
        return page.render("resident.html", view=history.resident_history(page.ctx, page.who, card, before=before))
