"""The public boards: the index of every community's published months, and one
community's board for one month (张榜公示), printable on A4. Both read what the console
published (``server.services.reports.published_boards`` / ``published_board``), never the
ledger, and name residents only as ``sync.board.board_name`` writes them."""

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from server.public import web
from server.services import reports


class BoardPages(Controller):
    path = "/public"

    @get("/", sync_to_thread=True)
    def index(self, request: Request) -> Template:
        return web.render(request, "index.html", communities=reports.published_boards(request.app.state.ctx))

    @get("/board/{community:str}/{month:str}", sync_to_thread=True)
    def board(self, request: Request, community: FromPath[str], month: FromPath[str]) -> Template:
        ctx = request.app.state.ctx
        board = reports.published_board(ctx, community, month)
        others = next((c["months"] for c in reports.published_boards(ctx) if c["community"] == community), [])
        return web.render(request, "board.html", board=board, others=[m for m in others if m != month])

    @get("/{rest:path}", sync_to_thread=False)
    def elsewhere(self, rest: FromPath[str]) -> Template:
        """Any other address under /public: the public 404 page, not the API's JSON."""
        raise NotFoundException(f"no public page at /public{rest}")
