"""Counties, a level above communities (server migration 20): adding or renaming one,
putting a community in one, and what each holds — the use cases the CLI (`county set`,
`county list`, `community county`) and the console's counties page share.

Viewing them is ``county.read``: central staff only, since a county's figures cover
communities a community manager does not manage. Changing them is ``catalog.write``. A
move is one transaction: the mapping, the community's boards moving to its new county's
kiosks, the deletion rows the kiosks that lose sight of its rows need and the rows the
kiosks that gain sight of others pull again (``server.services.feed.publish_views``), and
the audit row.
"""

from schema.feeds import DEFAULT_COUNTY
from server.errors import Invalid, NotFound
from server.services import feed
from server.services.context import Context
from server.services.manage import CODE, check_name
from server.services.staff import Principal, record, require
from server.store import catalog
from sync import codes


def put_county(ctx: Context, who: Principal, county: str, name: str) -> dict:
    """Add a county or rename it."""
    require(who, "catalog.write")
    county = codes.clean(county or "")
    if not CODE.match(county):
        raise Invalid("a county needs an id code (letters, digits, _ . -, up to 32)", county=county[:40], field="county")
    if not 1 <= len((name or "").strip()) <= 100:
        raise Invalid("a county needs a name (1-100 characters)", county=county, field="county_name")
    check_name(name, "a county's name", county=county, field="county_name")
    with ctx.store.write() as db:
        outcome = catalog.put_county(db, county, name.strip())
        record(db, ctx, who, "county_put", county, {"outcome": outcome, "name": name})
    return {"county": county, "outcome": outcome}


def set_community_county(ctx: Context, who: Principal, community: str, county: str) -> dict:
    """Put ``community`` in ``county`` (empty: back in the default county). In the same
    transaction its boards move to the county's kiosks (the county it left gets a deletion
    row for each), and every shop whose view changed is told (``feed.publish_views``): a
    shop's kiosks mirror only the served communities of their county, so a shop that served
    the community from the county it left drops its residents, and the community's own
    shops drop the boards of the county they left and get those of the new one. Returns
    the move with how many deletion rows (``left``) and moved rows (``moved``) it wrote."""
    require(who, "catalog.write")
    community, county = codes.clean(community or ""), codes.clean(county or "")
    with ctx.store.write() as db:
        if catalog.row_by_key(db, "communities", community) is None:
            raise NotFound("community", community[:40])
        if county and not catalog.county_exists(db, county):
            raise NotFound("county", county[:40])
        was = catalog.county_of_community(db, community)
        before = feed.shop_views(db)
        catalog.set_community_county(db, community, county)
        feed.rescope_boards(db, community, county)
        published = feed.publish_views(db, before)
        record(db, ctx, who, "community_county", community, {"county": county, "was": was})
    return {"community": community, "county": county, "was": was, **published}


def list_counties(ctx: Context, who: Principal) -> list[dict]:
    """The named counties with how many communities each holds."""
    require(who, "county.read")
    with ctx.store.read() as db:
        return catalog.list_counties(db)


def overview(ctx: Context, who: Principal) -> list[dict]:
    """Every county with its communities, each with its residents (active) and kiosks (not
    revoked) counted, and the county's totals; the default county (id ``''``) comes last,
    listed when it holds a community or no county is named."""
    require(who, "county.read")
    with ctx.store.read() as db:
        named = catalog.list_counties(db)
        communities = catalog.communities_counted(db)
    out = {c["id"]: {"id": c["id"], "name": c["name"], "communities": []} for c in named}
    if DEFAULT_COUNTY not in out and (not named or any(c["county"] == DEFAULT_COUNTY for c in communities)):
        out[DEFAULT_COUNTY] = {"id": DEFAULT_COUNTY, "name": "", "communities": []}
    for c in communities:
        out[c["county"]]["communities"].append(c)
    for county in out.values():
        county["residents"] = sum(c["residents"] for c in county["communities"])
        county["kiosks"] = sum(c["kiosks"] for c in county["communities"])
    return sorted(out.values(), key=lambda c: (c["id"] == DEFAULT_COUNTY, c["id"]))
