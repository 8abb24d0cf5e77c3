"""Counties in a real browser: an admin finds the page in the navigation, sees every
community counted (residents, kiosks) in the default county, adds two counties and moves a
community — through the use case `community county` runs, audited — and bad input is named
in Chinese with nothing changed; an auditor reads the page without its forms; a community
manager has no entry in the navigation, and the page and a move posted anyway are refused."""

import json

import httpx

from tests.conftest import Clock
from tests.console_pages.conftest import shot, sign_in
from tests.server.kiosk_double import KioskDouble


def _log(console, action):
    return [r for r in console.json("staff", "log") if r["action"] == action]


def _row(page, county: str, community: str) -> list[str]:
    return page.locator(f"#county-{county} tbody tr", has_text=community).locator("td").all_inner_texts()


def test_an_admin_adds_counties_and_moves_a_community(page, console):
    with httpx.Client(base_url=console.url, timeout=30) as client:  # a kiosk at SQ03's station, counted there
        assert KioskDouble(client, 21, Clock()).enroll(console.enroll_code("ST03")).status_code == 200
    sign_in(page, console, "boss", "/")
    page.click("nav >> text=县（市）")
    page.wait_for_url(f"{console.url}/counties*")
    assert page.locator("h1").inner_text() == "县（市）与所辖社区"
    sq03 = _row(page, "default", "SQ03")
    residents, kiosks = int(sq03[2]), int(sq03[3])
    assert residents > 0 and kiosks == 1
    assert "3 个社区" in page.locator("#county-default .county-totals").inner_text()

    for county, name in (("XQ01", "广汉市"), ("XQ02", "什邡市")):
        page.fill("#county-form input[name=county]", county)
        page.fill("#county-form input[name=name]", name)
        page.click("#county-form button.primary")
        assert f"县（市）{county} 已保存" in page.locator("p.notice").inner_text()
    assert page.locator("#county-XQ02 h2").inner_text().startswith("什邡市")

    page.select_option("#move-form select[name=community]", "SQ03")
    page.select_option("#move-form select[name=county]", "XQ02")
    page.click("#move-form button.primary")
    assert "社区 SQ03 已从“未归入县（市）”移到“什邡市”" in page.locator("p.notice").inner_text()
    assert _row(page, "XQ02", "SQ03")[2:] == [str(residents), "1"]
    assert page.locator("#county-default tbody tr", has_text="SQ03").count() == 0
    assert f"1 个社区，{residents} 名在册居民，1 台终端" in page.locator("#county-XQ02 .county-totals").inner_text()
    assert [(r["subject"], r["detail"]["county"]) for r in _log(console, "community_county")] == [("SQ03", "XQ02")]
    assert [c["id"] for c in console.json("county", "list")] == ["XQ01", "XQ02"]
    shot(page, "counties")

    # bad input: named in Chinese, nothing changed
    page.fill("#county-form input[name=county]", "坏 编号")
    page.fill("#county-form input[name=name]", "某县")
    page.click("#county-form button.primary")
    assert "县（市）编号只能用字母、数字" in page.locator("p.error").inner_text()
    page.goto(f"{console.url}/counties")
    page.select_option("#move-form select[name=community]", "SQ01")
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
    r = page.request.post(f"{console.url}/counties/move", form={"_csrf": token, "community": "SQ01", "county": "NOPE"})
    assert r.status == 404 and "县（市） NOPE 不存在" in r.text()
    assert len(_log(console, "county_put")) == 2 and len(_log(console, "community_county")) == 1


def test_an_auditor_reads_counties_and_changes_nothing(page, console):
    sign_in(page, console, "aud", "/counties")
    assert page.locator("#county-default tbody tr").count() == 3
    assert page.locator("#county-form").count() == 0 and page.locator("#move-form").count() == 0
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
    r = page.request.post(f"{console.url}/counties", form={"_csrf": token, "county": "XQ09", "name": "某县"})
    assert r.status == 403 and "不允许" in r.text()
    assert not _log(console, "county_put")


def test_a_community_manager_sees_no_counties(page, console):
    sign_in(page, console, "mgr", "/")
    assert page.locator("nav >> text=县（市）").count() == 0
    r = page.goto(f"{console.url}/counties")
    assert r.status == 403 and "不允许" in page.locator("p.error").inner_text()
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
    r = page.request.post(f"{console.url}/counties/move", form={"_csrf": token, "community": "SQ01", "county": ""})
    assert r.status == 403
    assert not _log(console, "community_county")
