"""One renderer for every report dict (``report``, ``columns``, ``rows``, ``totals``,
``lang``): JSON for programs (keys and raw values, plus ``labels``), and for people CSV in
UTF-8 with a byte-order mark (so spreadsheet software reads Chinese correctly), a real
``.xlsx`` workbook (XlsxWriter in its constant-memory mode, a row at a time: numbers as
numbers, times as dates), a printable HTML page (A4, no scripts, every value escaped) and a
plain table for the terminal — each with the headers and readable values of
``server.reports.labels``. CSV also comes in pieces (``csv_chunks``), for a download that
starts before its last row is written.

Spreadsheet formulas never ride along: a text cell that starts with ``= + - @``, a tab or
a carriage return is written with a leading ``'`` (CSV and xlsx), so a kiosk label such as
``=HYPERLINK(…)`` reaches the auditor's spreadsheet as text. Numbers are written as
numbers, so a negative number stays a number.
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from html import escape
from urllib.parse import quote

# The HTTP layer adds "; charset=utf-8" to a text/ type: named here it was said twice.
from server.reports import labels

FORMATS = {
    "json": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "table": "text/plain",
}
BOM = "\ufeff"
#: rows of CSV in one piece of a streamed download
CSV_CHUNK_ROWS = 2000
#: what a spreadsheet takes for the start of a formula (or a cell-splitting control)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: the extra tables a report carries beside its rows: key -> columns
EXTRA = {"goods": ["shop", "sku", "qty", "points"]}


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as text: a leading ``'`` before a formula's first character."""
    return "'" + text if text.startswith(FORMULA_START) else text


def render(report: dict, fmt: str) -> str:
    """A report as text: ``json``, ``csv``, ``html`` or ``table`` (``render_bytes`` also makes ``xlsx``)."""
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, sort_keys=True, indent=1)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "html":
        return to_html(report)
    if fmt == "table":
        return to_table(report)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def render_bytes(report: dict, fmt: str) -> bytes:
    """A report as the bytes of a download in ``fmt`` (any of ``FORMATS``)."""
    return to_xlsx(report) if fmt == "xlsx" else render(report, fmt).encode("utf-8")


def stream_bytes(report: dict, fmt: str) -> Iterator[bytes]:
    """The bytes of ``render_bytes`` in pieces: a CSV's rows as they are written (so a
    download of the whole city starts at once), any other format whole."""
    if fmt == "csv":
        return (piece.encode("utf-8") for piece in csv_chunks(report))
    return iter([render_bytes(report, fmt)])


def _lang(report: dict) -> str:
    return report.get("lang") or "zh"


def _typed_rows(report: dict, columns: list[str], rows: list[dict]) -> Iterator[list]:
    """Cells as a spreadsheet holds them: int, datetime, or neutralised text (None empty)."""
    kind, lang = report["report"], _lang(report)
    for r in rows:
        line = []
        for c in columns:
            v = labels.cell(kind, c, r.get(c), lang, typed=True)
            line.append(neutralise(v) if isinstance(v, str) else v)
        yield line


def _text_rows(report: dict, columns: list[str], rows: list[dict]) -> list[list[str]]:
    kind, lang = report["report"], _lang(report)
    return [[labels.cell(kind, c, r.get(c), lang) for c in columns] for r in rows]


def _headers(report: dict, columns: list[str]) -> list[str]:
    return [labels.header(report["report"], c, _lang(report)) for c in columns]


def to_csv(report: dict) -> str:
    return "".join(csv_chunks(report))


def csv_chunks(report: dict) -> Iterator[str]:
    """The CSV of ``to_csv`` in pieces of ``CSV_CHUNK_ROWS`` rows: the byte-order mark and the
    headers first."""
    buf = io.StringIO()
    buf.write(BOM)
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(_headers(report, report["columns"]))
    kind, lang, columns = report["report"], _lang(report), report["columns"]
    for i, r in enumerate(report["rows"], 1):
        w.writerow([_csv_cell(kind, c, r.get(c), lang) for c in columns])
        if i % CSV_CHUNK_ROWS == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _csv_cell(kind: str, column: str, value, lang: str):
    """A number stays a number (a negative one too); every text is neutralised."""
    if isinstance(value, int | float) and not isinstance(value, bool) and column not in labels.COLUMN_TYPES:
        return value
    return neutralise(labels.cell(kind, column, value, lang))


def to_xlsx(report: dict) -> bytes:
    """A workbook: the report's rows on the first sheet (headers in row 1), its extra tables
    (a settlement's goods) and its totals on sheets of their own. Every text is written as
    text (never a formula or a link), every number as a number."""
    import xlsxwriter  # only a download in xlsx needs it

    lang = _lang(report)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})

    def row(ws, n: int, line: list) -> None:
        for col, v in enumerate(line):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(n, col, v)
            elif hasattr(v, "hour"):  # a datetime: shown as a date and time, sorted as one
                ws.write_datetime(n, col, v, when)
            else:
                ws.write_number(n, col, v)

    def sheet(name: str, columns: list[str], rows: list[dict]) -> None:
        ws = wb.add_worksheet(_sheet_name(name))
        row(ws, 0, _headers(report, columns))
        for n, line in enumerate(_typed_rows(report, columns, rows), 1):
            row(ws, n, line)

    sheet(labels.title(report["report"], lang), report["columns"], report["rows"])
    for key, columns in EXTRA.items():
        if key in report:
            sheet(labels.title(key, lang), columns, report[key])
    if report.get("totals"):
        ws = wb.add_worksheet(_sheet_name(labels.phrase("totals", lang)))
        for n, (k, v) in enumerate(report["totals"].items()):
            row(ws, n, [labels.header(report["report"], k, lang), v])
    wb.close()
    return buf.getvalue()


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "report"


def _caption(report: dict) -> str:
    title = report.get("title") or labels.title(report["report"], _lang(report))
    return f"{title} — {report['month']}" + (f" — {report['community']}" if report.get("community") else "")


def _totals_text(report: dict) -> str:
    kind, lang = report["report"], _lang(report)
    return " · ".join(f"{labels.header(kind, k, lang)}: {v}" for k, v in report.get("totals", {}).items())


def to_table(report: dict) -> str:
    """The report for a terminal: a caption, tab-separated headers and readable values, the totals."""
    lines = [_caption(report), "\t".join(_headers(report, report["columns"]))]
    lines += ["\t".join(line) for line in _text_rows(report, report["columns"], report["rows"])]
    if report.get("totals"):
        lines.append(f"{labels.phrase('totals', _lang(report))}: {_totals_text(report)}")
    return "\n".join(lines) + "\n"


def to_html(report: dict) -> str:
    caption = _caption(report)
    head = "".join(f"<th>{escape(h)}</th>" for h in _headers(report, report["columns"]))
    body = "\n".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in line) + "</tr>"
                     for line in _text_rows(report, report["columns"], report["rows"]))
    note = f"<p>{escape(report['definition'])}</p>" if report.get("definition") else ""
    lang = "en" if _lang(report) == "en" else "zh-CN"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{escape(caption)}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 11pt; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #444; padding: 2pt 6pt; text-align: left; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
</style></head>
<body><h1>{escape(caption)}</h1>{note}
<table><thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody></table>
<p>{escape(_totals_text(report))}</p>
</body></html>
"""


_SAFE = re.compile(r"[^0-9A-Za-z._-]")


def file_name(report: dict, fmt: str) -> tuple[str, str]:
    """(ASCII fallback, the name in the report's language) of a report's download."""
    ext = "xlsx" if fmt == "xlsx" else fmt if fmt in ("csv", "html", "json") else "txt"
    parts = [report["month"]] + ([report["community"]] if report.get("community") else [])
    ascii_name = _SAFE.sub("_", "-".join([report["report"], *parts]))[:100] + f".{ext}"
    human = "-".join([labels.title(report["report"], _lang(report)), *parts])
    human = re.sub(r"[\x00-\x1f\x7f\"\\/:*?<>|]", "_", human)[:100] + f".{ext}"
    return ascii_name, human


def content_disposition(report: dict, fmt: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the RFC 6266 / RFC 5987 ``filename*``
    (UTF-8, percent-encoded): nothing from a parameter can add or end a header field."""
    ascii_name, human = file_name(report, fmt)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(human, safe='')}"
