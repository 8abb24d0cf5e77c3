"""One renderer for every report dict (``columns``, ``rows``, ``totals``): JSON, CSV in
UTF-8 with a byte-order mark (so spreadsheet software reads Chinese correctly), and a
printable HTML page (A4, no scripts, every value escaped)."""

import csv
import io
import json
from html import escape

# The HTTP layer adds "; charset=utf-8" to a text/ type: named here it was said twice.
FORMATS = {"json": "application/json", "csv": "text/csv", "html": "text/html"}
BOM = "\ufeff"


def render(report: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, sort_keys=True, indent=1)
    if fmt == "csv":
        return to_csv(report["columns"], report["rows"])
    if fmt == "html":
        return to_html(report)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def to_csv(columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    buf.write(BOM)
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue()


def to_html(report: dict) -> str:
    title = report.get("title") or f"{report['report']} report"
    caption = f"{title} — {report['month']}" + (f" — {report['community']}" if report.get("community") else "")
    head = "".join(f"<th>{escape(str(c))}</th>" for c in report["columns"])
    body = "\n".join(
        "<tr>" + "".join(f"<td>{escape('' if r.get(c) is None else str(r.get(c)))}</td>" for c in report["columns"]) + "</tr>"
        for r in report["rows"]
    )
    totals = " · ".join(f"{escape(str(k))}: {escape(str(v))}" for k, v in report.get("totals", {}).items())
    note = f"<p>{escape(report['definition'])}</p>" if report.get("definition") else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(caption)}</title>
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
<p>{totals}</p>
</body></html>
"""
