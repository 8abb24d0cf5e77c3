"""书记信箱 and 村民说事 in public: each community's handling log for a month with its
figures (received, done, median time to done, share rated 4 or 5), one item's log by its
tracking code, and the resident's rating by that code and the last four digits of their
phone (once; ``server.services.voice.rate_public``). Names are written as the
board writes them (``sync.board.board_name``); the resident's own words and staff
usernames never appear (``server.services.voice.public_log``)."""

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.console.pages.forms import Form, text
from server.errors import Invalid
from server.public import web
from server.services import voice
from sync.calendar import local_month


def _stars(value: str) -> int:
    if value not in ("1", "2", "3", "4", "5"):
        raise Invalid("stars must be a whole number from 1 to 5", field="stars")
    return int(value)


def _item_page(request: Request, code: str) -> Template:
    shown = voice.public_log(request.app.state.ctx, code)
    return web.render(request, "voice_item.html", item=shown, rated=request.query_params.get("rated") == "1")


class VoicePublicPages(Controller):
    path = "/public/voice"

    @get("/", sync_to_thread=True)
    def index(self, request: Request) -> Template:
        ctx = request.app.state.ctx
        code = request.query_params.get("code")
        if code:  # the look-up form: straight to the item
            return _item_page(request, code)
        return web.render(request, "voice_index.html", communities=voice.communities(ctx), month=local_month(ctx.now()))

    @get("/{community:str}/{month:str}", sync_to_thread=True)
    def month(self, request: Request, community: FromPath[str], month: FromPath[str]) -> Template:
        ctx = request.app.state.ctx
        rows = voice.public_summary(ctx, community, month)
        return web.render(request, "voice_month.html", community=community, month=month, rows=rows,
                          community_name=next((c["name"] for c in voice.communities(ctx) if c["id"] == community), community),
                          items=voice.public_month(ctx, community, month))

    @get("/item/{code:str}", sync_to_thread=True)
    def item(self, request: Request, code: FromPath[str]) -> Template:
        return _item_page(request, code)

    @post("/item/{code:str}/rate", sync_to_thread=True, status_code=303)
    def rate(self, request: Request, code: FromPath[str], data: Form) -> Redirect:
        out = voice.rate_public(request.app.state.ctx, code, _stars(text(data, "stars")), text(data, "phone_tail"))
        return Redirect(f"/public/voice/item/{out['code']}?rated=1", status_code=303)
