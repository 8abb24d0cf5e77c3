"""The receipt check page (``/public/check?r=…``): paste a receipt's last line, or follow
its QR code, and read what it says, its status, the resident's balance and the proof that
its batch is in the server's signed log (``server.services.check``). A receipt that does
not verify is refused in the reader's words (``web.error_text``)."""

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Redirect, Template

from server.public import web
from server.services.check import check_receipt
from sync.receipt import MAX_TEXT


class CheckPages(Controller):
    path = "/"

    @get("/check", sync_to_thread=False)
    def printed(self, request: Request) -> Redirect:
        """What kiosks print by default (the server's address + ``/check``): this page."""
        query = request.url.query
        return Redirect(path="/public/check" + (f"?{query}" if query else ""), status_code=302)

    @get("/public/check", sync_to_thread=True)
    def receipt_check(self, request: Request, r: Annotated[str | None, Parameter(max_length=MAX_TEXT)] = None) -> Template:
        if not r or not r.strip():
            return web.render(request, "check.html", checked=None, pasted="")
        return web.render(request, "check.html", checked=check_receipt(request.app.state.ctx, r), pasted=r)
