"""Counties in the console, for central staff: every county with its communities, each
with its residents and kiosks counted (``counties.overview``, permission ``county.read``:
a community manager neither sees the page in the navigation nor opens it); an admin
(``catalog.write``) adds or renames a county and moves a community to another — through the
same use cases as ``jifen-server county set`` and ``community county``, so the move
publishes in the same transaction what the kiosks of both counties need."""

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from server.console import web
from server.console.pages.forms import Form, text
from server.services import counties

web.NAV.append(web.NavItem("nav_counties", "/counties", "county.read"))
web.INVALID_WORDS.update({"county": "invalid_county", "county_name": "invalid_county_name"})


class CountyPages(Controller):
    path = "/counties"

    @get("/", sync_to_thread=True)
    def listing(self, page: NamedDependency[web.Page], done: FromQuery[str] = "", item: FromQuery[str] = "",
                to: FromQuery[str] = "", was: FromQuery[str] = "") -> Template:
        shown = counties.overview(page.ctx, page.who)
        names = {c["id"]: c["name"] for c in shown}
        where = {c["id"]: c["county"] for county in shown for c in county["communities"]}
        notice = ""  # only what the page shows to be so: a link cannot word a change that did not happen
        if done == "saved" and item in names:
            notice = page.t("county_did_saved", county=item)
        elif done == "moved" and where.get(item) == to and was in names.keys() | {""}:
            default = page.t("county_default")
            notice = page.t("county_did_moved", community=item, county=names.get(to) or default,
                            was=names.get(was) or default)
        return page.render("counties.html", counties=shown, notice=notice, may_change=page.who.can("catalog.write"),
                           communities=[c for county in shown for c in county["communities"]])

    @post("/", sync_to_thread=True, status_code=303)
    def put_county(self, page: NamedDependency[web.Page], data: Form) -> Redirect:
        out = counties.put_county(page.ctx, page.who, text(data, "county"), text(data, "name"))
        return Redirect(f"/counties?done=saved&item={out['county']}", status_code=303)

    @post("/move", sync_to_thread=True, status_code=303)
    def move(self, page: NamedDependency[web.Page], data: Form) -> Redirect:
        out = counties.set_community_county(page.ctx, page.who, text(data, "community"), text(data, "county"))
        return Redirect(f"/counties?done=moved&item={out['community']}&to={out['county']}&was={out['was']}", status_code=303)
