"""The review queue pages: the list (``review.list_items``), an item with its evidence
written for a person (``review.show_item``, and the resident's history for the balance
before and after), and its resolution in two steps — choose, then confirm — through
``review.resolve`` (and ``review.decide`` for a resolution awaiting a second person).
Two staff resolving one item: the use case lets one win and refuses the other
(``Conflict``, shown in words)."""

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from server.console.web import NAV, NavItem, Page
from server.services import history, review

NAV.append(NavItem("nav_reviews", "/reviews", "review.read"))

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE_SIZE = 50


def points_of(text: str | None) -> int | None:
    """The points typed in the form (None: none given); what is not a whole number is
    passed on as 0, which the use case refuses by name."""
    text = (text or "").strip().replace("＋", "+").replace("－", "-")
    if not text:
        return None
    return int(text) if text.lstrip("+-").isdigit() else 0


def resident_side(page: Page, item: dict) -> tuple[dict | None, dict]:
    """The resident's balance just before and after the item's event, and now; and the
    resident's history entries of the evidence's events by event id (their words: rule,
    goods and shop names)."""
    if not item.get("resident"):
        return None, {}
    events = [e["id"] for e in item["evidence"]["events"]] + ([item["event"]] if item.get("event") else [])
    view = history.entries_of(page.ctx, page.who, item["resident"], events)
    entries = view["entries"]
    out = {"now": view["balance"], "before": None, "after": None, "name": view["resident"]["name"]}
    if (e := entries.get(item.get("event"))) is not None:
        out |= {"before": e["balance"] - e["points"], "after": e["balance"]}
    return out, entries


class ReviewPages(Controller):
    path = "/reviews"

    @get("/", sync_to_thread=True)
    def queue(self, page: NamedDependency[Page], show: FromQuery[str] = "open", kind: FromQuery[str] = "",
              before: FromQuery[int | None] = None) -> Template:
        """Newest first, a page at a time (``before``: the id the next page starts below)."""
        items = review.page_of_items(page.ctx, page.who, open_only=show != "all", kind=kind or None,
                                     before=before, size=PAGE_SIZE + 1)
        more = len(items) > PAGE_SIZE
        items = items[:PAGE_SIZE]
        return page.render("reviews.html", items=items, show=show, kind=kind, first=before is None,
                           next_before=items[-1]["id"] if more else None)

    @get("/{item:int}", sync_to_thread=True)
    def item(self, page: NamedDependency[Page], item: FromPath[int], done: FromQuery[str] = "") -> Template:
        shown = review.show_item(page.ctx, page.who, item)
        balances, entries = resident_side(page, shown)
        return page.render("review.html", item=shown, balances=balances, entries=entries, done=done,
                           actions=review.ACTIONS, may_resolve=page.who.can("review.resolve"))

    @post("/{item:int}/confirm", sync_to_thread=True, status_code=200)
    def confirm(self, page: NamedDependency[Page], item: FromPath[int], data: Form) -> Template:
        """Step two: what will happen, in words, before anything does."""
        shown = review.show_item(page.ctx, page.who, item)
        return page.render("review_confirm.html", item=shown, action=data.get("action", ""),
                           points=data.get("points", "").strip(), note=data.get("note", "").strip())

    @post("/{item:int}/resolve", sync_to_thread=True, status_code=303)
    def resolve(self, page: NamedDependency[Page], item: FromPath[int], data: Form) -> Redirect:
        out = review.resolve(page.ctx, page.who, item, data.get("action", ""), data.get("note", ""), points_of(data.get("points")))
        return Redirect(f"/reviews/{item}?done={out['status']}", status_code=303)

    @post("/{item:int}/approve", sync_to_thread=True, status_code=303)
    def approve(self, page: NamedDependency[Page], item: FromPath[int], data: Form) -> Redirect:
        review.decide(page.ctx, page.who, item, True, data.get("note", ""))
        return Redirect(f"/reviews/{item}?done=approved", status_code=303)

    @post("/{item:int}/decline", sync_to_thread=True, status_code=303)
    def decline(self, page: NamedDependency[Page], item: FromPath[int], data: Form) -> Redirect:
        review.decide(page.ctx, page.who, item, False, data.get("note", ""))
        return Redirect(f"/reviews/{item}?done=declined", status_code=303)
