"""The dashboard: what is waiting, which kiosks are silent, points this month against
last, the last checkpoint and audit."""

import re

from playwright.sync_api import expect

CARD_A = "5106810100001"


def test_the_dashboard_shows_open_items_by_kind_and_runs_the_audit(console, page, sign_in, overdraft):
    overdraft(CARD_A)
    sign_in(page, "rex")
    expect(page.locator("#reviews")).to_contain_text("积分透支")
    expect(page.locator("#reviews .big")).to_have_text("1")
    expect(page.locator("#points")).to_contain_text("兑换")
    expect(page.locator("#audit")).to_contain_text("还没有做过核查")
    page.click("#audit button")  # htmx swaps in the outcome
    expect(page.locator("#audit")).to_contain_text("通过")
    expect(page.locator("#audit")).to_contain_text(re.compile(r"最近一次核查：\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d，rex"))
    page.click("#reviews a")
    expect(page.locator("h1")).to_have_text("待审核事项")
    expect(page.locator("#queue")).to_contain_text("积分透支")


def test_a_kiosk_enrolled_and_never_heard_from_again_is_silent(console, page, sign_in, overdraft):
    import httpx

    from tests.conftest import Clock
    from tests.server.kiosk_double import KioskDouble

    busy = overdraft(CARD_A)  # pushed just now: in touch
    with httpx.Client(base_url=console.url, timeout=30) as c:
        quiet = KioskDouble(c, 9, Clock())
        assert quiet.enroll(console.enroll_code("S02")).status_code == 200
    sign_in(page, "admin")
    silent = page.locator("#silent")
    expect(silent).to_contain_text(quiet.id)
    expect(silent).to_contain_text("从未")
    expect(silent).not_to_contain_text(busy.id)
