"""Importing the residents register: upload a CSV (UTF-8 or GBK/GB18030, as
``server.services.register`` decodes it), see what it would do — rows added, changed and
refused with their line numbers — and then commit exactly that, or nothing. The file rides
from the preview to the commit in the form (base64) with the preview's token, so the commit
applies the plan the staff member saw or refuses as a whole."""

import base64
import binascii
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from server.console import web
from server.console.pages.forms import Form, text
from server.errors import Invalid
from server.services import register, staff

Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

web.NAV.append(web.NavItem("nav_import", "/import", "resident.write"))
#: lines of each of the preview's tables (added, changed, refused) a page shows; the next
#: page posts the same file again (the plan and its token are those of the whole file)
PREVIEW_ROWS = 200


def _community(value: str) -> str | None:
    return value.strip() or None


def _file_bytes(data: dict) -> bytes:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("choose a register file", field="file")
    content = upload.file.read(register.MAX_REGISTER_BYTES + 1)
    if not content:
        raise Invalid("the file is empty", field="file")
    return content


def _carried(data: dict) -> bytes:
    try:
        return base64.b64decode(text(data, "content"), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("the file did not come back from the preview", field="file") from None


class RegisterPages(Controller):
    path = "/import"

    @get("/", sync_to_thread=True)
    def form(self, page: NamedDependency[web.Page]) -> Template:
        staff.require(page.who, "resident.write")  # the check preview and commit make
        return page.render("pages/import.html", plan=None, content="", community="", done=None)

    @post("/preview", sync_to_thread=True, status_code=200)
    def preview(self, page: NamedDependency[web.Page], data: Upload) -> Template:
        """The plan for an uploaded file, or (``content``: a page of a preview) the file it carried."""
        content = _carried(data) if data.get("content") else _file_bytes(data)
        community = _community(str(data.get("community") or ""))
        plan = register.preview(page.ctx, page.who, content, community, page.lang)
        number = str(data.get("page") or "1")
        number = max(1, int(number)) if number.isdigit() else 1
        first = (number - 1) * PREVIEW_ROWS
        shown = {k: plan[k][first:first + PREVIEW_ROWS] for k in ("added", "changed", "refused")}
        total = max(len(plan[k]) for k in shown)
        return page.render("pages/import.html", plan=plan, shown=shown, content=base64.b64encode(content).decode("ascii"),
                           community=community or "", done=None, preview_page=number, preview_first=first + 1,
                           preview_last=min(total, first + PREVIEW_ROWS), preview_total=total)

    @post("/commit", sync_to_thread=True, status_code=200)
    def commit(self, page: NamedDependency[web.Page], data: Form) -> Template:
        community = _community(text(data, "community"))
        done = register.commit(page.ctx, page.who, _carried(data), text(data, "token") or "-", community, page.lang)
        return page.render("pages/import.html", plan=None, content="", community=community or "", done=done)
