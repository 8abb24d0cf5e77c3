"""The reports page in a real browser: every report shows as a table in Chinese, points
issued carries its server-drawn SVG chart, the board prints on A4 and is published to
kiosks (the feed gets it), and each report downloads as CSV with a BOM and as .xlsx."""

import io
import json

import openpyxl

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from tests.console_pages.conftest import shot, sign_in

MONTH = "2026-01"  # the demo data's month


def _awards_this_month(console, tmp_path) -> KioskService:
    """A real kiosk at S01 awards three residents this month and syncs."""
    kiosk = KioskService(kiosk_settings.load(tmp_path / "kiosk", lang="zh", timeout=5.0))
    kiosk.enroll(console.url, console.enroll_code("S01"))
    assert kiosk.sync().ok
    cards = [r["card"] for r in kiosk.store._rows("SELECT card FROM residents WHERE status = 'active' ORDER BY card LIMIT 3")]
    for n, card in enumerate(cards):
        for _ in range(n + 1):
            kiosk.award(card, "ZYFW", "op1")
    assert kiosk.sync().ok
    return kiosk


def test_reports_show_chart_print_publish_and_download(page, console, tmp_path):
    kiosk = _awards_this_month(console, tmp_path)
    sign_in(page, console, "recon", f"/reports/issued?month={MONTH}")
    assert page.locator("h1").inner_text() == "报表"
    assert page.locator("nav.tabs a.here").inner_text() == "积分发放与兑换"
    assert page.locator("figure.chart svg rect.bar").count() == 12 * 4
    assert page.locator("#report table tbody tr").count() > 0
    shot(page, "reports-issued")

    # the filter swaps the report in place (htmx), the URL follows
    page.goto(f"{console.url}/reports/settlement?month={MONTH}")
    page.fill("input[name=community]", "SQ01")
    page.click("form.row button.primary")
    page.wait_for_url("**community=SQ01*")
    assert "SQ01" in page.locator("#report h2").inner_text()

    # downloads: CSV in UTF-8 with a BOM and Chinese headers, a real workbook
    page.goto(f"{console.url}/reports/board")  # this month: the kiosk's awards, names masked
    ranks = page.locator("#report tbody tr").all_inner_texts()
    assert len(ranks) == 3 and ranks[0].split("\t")[2] == "1"
    assert "*" in ranks[0] or "＊" in ranks[0]
    with page.expect_download() as dl:
        page.click("text=下载 CSV")
    raw = open(dl.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "社区" in raw.decode("utf-8-sig").splitlines()[0]
    with page.expect_download() as dl:
        page.click("text=下载 Excel")
    book = openpyxl.load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert book.active.max_row >= 1
    shot(page, "reports-board")

    # the printable page: no navigation, A4 rules in the style sheet
    page.click("text=打印版（A4）")
    page.wait_for_url("**/reports/board/print*")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert page.locator("article.printable table").is_visible()
    page.emulate_media(media="screen")

    # publish to kiosks: a notice in place and an audit row
    page.goto(f"{console.url}/reports/board")
    page.click("text=发布到终端")
    page.wait_for_selector("#publish-result .notice")
    assert "已发布" in page.locator("#publish-result").inner_text()
    assert kiosk.sync().ok  # and the kiosk's next pull brings it
    assert len(json.loads(kiosk.store.boards_of("SQ01")[0]["top"])) == 3
    kiosk.close()
    log = console.json("staff", "log")
    assert any(r["action"] == "board_publish" and r["staff"] == "recon" and r["subject"] != MONTH for r in log)


def test_an_auditor_reads_reports_but_cannot_publish(page, console):
    sign_in(page, console, "aud", f"/reports/board?month={MONTH}")
    assert page.locator("text=发布到终端").count() == 0
    # the form posted anyway is refused by the use case, in Chinese
    csrf = page.locator("body").get_attribute("hx-headers")
    token = json.loads(csrf)["X-CSRF-Token"]
    r = page.request.post(f"{console.url}/reports/board/publish", form={"_csrf": token, "month": MONTH})
    assert r.status == 403
    assert "不允许" in r.text()
    assert not any(x["action"] == "board_publish" for x in console.json("staff", "log"))
    # the same page in English, from the same one table, down to the report's own headers
    page.click("a.lang")
    page.wait_for_url("**/reports/board**")
    assert page.locator("h1").inner_text() == "Reports"
    assert page.locator("nav.tabs a.here").inner_text() == "Monthly board"
    page.goto(f"{console.url}/reports/coverage?month={MONTH}")
    assert "Community" in page.locator("#report thead").inner_text()


def test_a_community_manager_sees_only_their_communities(page, console):
    sign_in(page, console, "mgr", f"/reports/coverage?month={MONTH}")
    cells = page.locator("#report table tbody tr td:first-child").all_inner_texts()
    assert cells == ["SQ01"]
    # another community asked for in the filter: the refusal is swapped in, in Chinese
    page.fill("input[name=community]", "SQ02")
    page.click("form.row button.primary")
    page.wait_for_selector("#report p.error")
    assert "不允许" in page.locator("#report p.error").inner_text()
