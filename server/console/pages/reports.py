"""The reports page: every report of ``server.services.reports`` for a month (and a
community) as a table, points issued and spent with a bar chart of the last twelve months,
the monthly board as a printable A4 page and published to kiosks, and each report as a CSV
(UTF-8 with a byte-order mark) or .xlsx download through ``server.reports.render``."""

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream, Template

from server.console import chart, web
from server.console.pages.forms import Form, text
from server.errors import Invalid
from server.reports import labels, render
from server.services import reports
from sync.calendar import local_month

#: the reports the page shows, in tab order (the trend is drawn inside "issued"); "shifts"
#: (stock differences of closed shifts) once ``server.services.reports`` has it
SHOWN = tuple(k for k in ("board", "settlement", "issued", "coverage", "kiosks", "shifts", "voice") if k in reports.KINDS)
DOWNLOADS = ("csv", "xlsx")
#: rows of a report a page shows (the print view and the downloads hold every row)
PAGE_ROWS = 200

web.NAV.append(web.NavItem("nav_reports", "/reports", "report.read"))


def _query(request: Request, page: web.Page) -> tuple[str, str | None]:
    month = request.query_params.get("month") or local_month(page.now())
    community = request.query_params.get("community") or None
    return month, community


def _kind(kind: str) -> str:
    if kind not in SHOWN:
        raise Invalid("no such report", field="report")
    return kind


def _row_page(request: Request) -> int:
    value = request.query_params.get("page") or "1"
    return max(1, int(value)) if value.isdigit() else 1


def _view(page: web.Page, kind: str, month: str, community: str | None, row_page: int | None = None) -> dict:
    """The report and what its page shows: all its rows (``row_page`` None: the print view)
    or the ``PAGE_ROWS`` of page ``row_page``."""
    first = ((row_page or 1) - 1) * PAGE_ROWS
    rep = reports.report(page.ctx, page.who, kind, month, community, page.lang,
                         None if row_page is None else (first, PAGE_ROWS))
    data = {"rep": rep, "kind": kind, "month": month, "community": community or "", "kinds": SHOWN,
            "shown": rep["rows"], "row_count": rep["row_count"], "row_page": row_page or 1, "row_first": first + 1,
            "cell": lambda col, value: labels.cell(kind, col, value, page.lang),
            "header": lambda col: labels.header(kind, col, page.lang),
            "goods_cell": lambda col, value: labels.cell("goods", col, value, page.lang),
            "goods_header": lambda col: labels.header("goods", col, page.lang),
            "goods_columns": render.EXTRA["goods"], "chart": None, "flows": reports.FLOWS}
    if kind == "issued":
        series = reports.trend_series(page.ctx, page.who, month, community)
        data["chart"] = chart.bars(series["months"], series, reports.FLOWS)
        data["flow_name"] = lambda flow: labels.word("flow", flow, page.lang)
    return data


class ReportPages(Controller):
    path = "/reports"

    @get("/", sync_to_thread=True)
    def index(self, request: Request, page: NamedDependency[web.Page]) -> Template:
        return self._show(request, page, "board")

    @get("/{kind:str}", sync_to_thread=True)
    def show(self, request: Request, page: NamedDependency[web.Page], kind: FromPath[str]) -> Template:
        return self._show(request, page, _kind(kind))

    @staticmethod
    def _show(request: Request, page: web.Page, kind: str) -> Template:
        month, community = _query(request, page)
        template = "pages/report_body.html" if request.headers.get("hx-request") else "pages/reports.html"
        return page.render(template, **_view(page, kind, month, community, _row_page(request)))

    @get("/{kind:str}/print", sync_to_thread=True)
    def printable(self, request: Request, page: NamedDependency[web.Page], kind: FromPath[str]) -> Template:
        """The report alone on an A4 page (the style sheet's print rules), for the notice board."""
        month, community = _query(request, page)
        return page.render("pages/report_print.html", **_view(page, _kind(kind), month, community))

    @get("/{kind:str}/download", sync_to_thread=True)
    def download(self, request: Request, page: NamedDependency[web.Page], kind: FromPath[str]) -> Stream:
        fmt = request.query_params.get("format", "csv")
        if fmt not in DOWNLOADS:
            raise Invalid("format must be csv or xlsx", field="format")
        month, community = _query(request, page)
        rep = reports.report(page.ctx, page.who, _kind(kind), month, community, page.lang)
        return Stream(render.stream_bytes(rep, fmt), media_type=render.FORMATS[fmt],
                      headers={"Content-Disposition": render.content_disposition(rep, fmt)})

    @post("/board/publish", sync_to_thread=True, status_code=200)
    def publish(self, page: NamedDependency[web.Page], data: Form) -> Template:
        out = reports.publish_board(page.ctx, page.who, text(data, "month"))
        return page.render("pages/notice.html", message=page.t("rep_published", month=out["month"],
                                                                 n=out["communities_changed"]))
