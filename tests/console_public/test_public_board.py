"""A resident opens the public boards in a real browser: the index, a community's board in
Chinese with two residents of one name told apart by their cards' last four, nothing
fetched from anywhere but the server and nothing refused by its CSP, and the board printed
to an A4 PDF without the page's links."""

import os
import re

import pytest

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from server.services import open_context
from server.services.manage import put_resident
from server.services.staff import SYSTEM
from server.settings import Settings, system_clock
from server.store import catalog
from sync.board import board_name
from sync.calendar import local_month
from tests.console_public.conftest import kept
from tests.e2e.conftest import ServerProcess, free_port

CARD_A = "5106810100001"
TWIN = "5106810100999"  # a second SQ01 resident with CARD_A's name
A4_POINTS = (595, 842)  # 210 x 297 mm


@pytest.fixture
def public(server_dir):
    """A real server whose SQ01 has two residents of one name; returns (server, that name)."""
    ctx = open_context(Settings(data_dir=server_dir))
    try:
        with ctx.store.read() as db:
            name = catalog.row_by_key(db, "residents", CARD_A)["name"]
        put_resident(ctx, SYSTEM, TWIN, name, "13800001234", "SQ01")
    finally:
        ctx.close()
    srv = ServerProcess(server_dir, free_port()).start(env={**os.environ, "JIFEN_TICK_SECONDS": "0"})
    yield srv, name
    srv.stop()


def award_and_publish(srv, tmp_path) -> str:
    """A real kiosk at S01 awards every SQ01 resident (more to some) and syncs; staff
    publish this month's board with the CLI. Returns the month."""
    kiosk = KioskService(kiosk_settings.load(tmp_path / "kiosk", lang="zh", timeout=5.0))
    try:
        kiosk.enroll(srv.url, srv.enroll_code("S01"))
        assert kiosk.sync().ok
        cards = [r["card"] for r in kiosk.store._rows("SELECT card FROM residents WHERE community = 'SQ01' ORDER BY card")]
        assert TWIN in cards and CARD_A in cards
        for n, card in enumerate(cards):
            for _ in range(1 + n % 4 + (card == TWIN)):
                kiosk.award(card, "ZYFW", "op1")
        assert kiosk.sync().ok and kiosk.status()["pending_events"] == 0
    finally:
        kiosk.close()
    month = local_month(system_clock())
    srv.cli("report", "board", "--month", month, "--publish")
    return month


def test_a_resident_reads_and_prints_the_board(page, public, tmp_path):
    srv, name = public
    month = award_and_publish(srv, tmp_path)
    requested, refused = [], []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(srv.url + "/public/")
    assert page.locator("h1").inner_text() == "各社区积分榜"
    year, mon = month.split("-")
    page.click(f"a[href='/public/board/SQ01/{month}']")
    page.wait_for_url(f"**/public/board/SQ01/{month}")
    assert page.locator("h1").inner_text() == f"龙居社区{int(year)}年{int(mon)}月积分榜"
    assert page.locator("thead th").all_inner_texts() == ["名次", "姓名（卡号后四位）", "当月积分"]
    names = page.locator("tbody td:nth-child(2)").all_inner_texts()
    assert len(names) == 11 and len(set(names)) == 11  # told apart, every one
    assert board_name(name, CARD_A) in names and board_name(name, TWIN) in names
    assert all(re.fullmatch(r".+（…[0-9]{4}）", n) for n in names)
    body = page.locator("body").inner_text()
    assert name not in body and CARD_A not in body and TWIN not in body
    # the style sheet arrived and applied (no inline style is allowed): the header's red rule
    assert page.locator("header.top").evaluate("e => getComputedStyle(e).borderBottomStyle") == "solid"
    print("screenshot:", kept("public-board.png"))
    page.screenshot(path=str(kept("public-board.png")), full_page=True)

    page.emulate_media(media="print")
    assert not page.locator("a.lang").is_visible() and not page.locator("nav.others").is_visible()
    assert page.locator("article.board table").is_visible()
    page.screenshot(path=str(kept("public-board-print.png")), full_page=True)
    pdf = page.pdf(path=str(kept("public-board.pdf")), prefer_css_page_size=True, print_background=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert boxes and all((round(float(w)), round(float(h))) == A4_POINTS for w, h in boxes), boxes
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # eleven lines fit on one sheet

    assert requested and all(u.startswith(srv.url + "/") for u in requested), requested
    assert not refused, refused
