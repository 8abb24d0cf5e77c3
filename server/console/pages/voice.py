"""书记信箱 and 村民说事 in the console: the queue of residents' letters and requests
(``voice.list_items``, filtered by status, channel and community) and an item's page with
the resident's words, every handling step and the three actions — assign, reply, mark
done — through the same use cases as the API (``server.services.voice``: role and
community checks, audit rows, the item's ``voice_reply`` feed row). The monthly figures
are the ``voice`` report on the reports page."""

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from server.console import web
from server.console.pages.forms import Form, text
from server.services import voice
from sync.kinds.voice import CHANNELS

web.NAV.append(web.NavItem("nav_voice", "/voice", "voice.read"))
web.INVALID_WORDS.update({"reply": "invalid_reply", "staff": "invalid_assignee", "month": "invalid_other",
                          "status": "invalid_other", "channel": "invalid_other"})


class VoicePages(Controller):
    path = "/voice"

    @get("/", sync_to_thread=True)
    def queue(self, request: Request, page: NamedDependency[web.Page]) -> Template:
        q = request.query_params
        status, channel, community = q.get("status") or None, q.get("channel") or None, q.get("community") or None
        items = voice.list_items(page.ctx, page.who, community, status, channel, q.get("month") or None)
        return page.render("voice.html", items=items, status=status or "", channel=channel or "",
                           community=community or "", statuses=voice.STATUSES, channels=CHANNELS)

    @get("/{code:str}", sync_to_thread=True)
    def item(self, page: NamedDependency[web.Page], code: FromPath[str], done: FromQuery[str] = "") -> Template:
        shown = voice.item(page.ctx, page.who, code)
        may = page.who.can("voice.handle") and page.who.sees(shown["community"])
        return page.render("voice_item.html", item=shown, done=done, may_handle=may and shown["status"] != "done",
                           handlers=voice.handlers(page.ctx, page.who, code) if may else [])

    @post("/{code:str}/assign", sync_to_thread=True, status_code=303)
    def assign(self, page: NamedDependency[web.Page], code: FromPath[str], data: Form) -> Redirect:
        out = voice.assign(page.ctx, page.who, code, text(data, "staff"))
        return Redirect(f"/voice/{out['code']}?done=assigned", status_code=303)

    @post("/{code:str}/reply", sync_to_thread=True, status_code=303)
    def reply(self, page: NamedDependency[web.Page], code: FromPath[str], data: Form) -> Redirect:
        out = voice.reply(page.ctx, page.who, code, text(data, "reply"))
        return Redirect(f"/voice/{out['code']}?done=replied", status_code=303)

    @post("/{code:str}/done", sync_to_thread=True, status_code=303)
    def done(self, page: NamedDependency[web.Page], code: FromPath[str]) -> Redirect:
        out = voice.done(page.ctx, page.who, code)
        return Redirect(f"/voice/{out['code']}?done=done", status_code=303)
