"""Importing the register in a real browser: a GBK file's preview names what is added,
changed and refused (with line numbers) and changes nothing; confirming applies exactly
that; a stale preview (the register changed meanwhile) is refused whole; an auditor has
no import page and a preview posted anyway is refused."""

import json

from tests.console_pages.conftest import shot, sign_in

REGISTER = ("卡号,姓名,手机,社区\r\n"
            "5106810199001,王小明,13800000001,SQ01\r\n"      # line 2: new
            "5106810100001,郝海燕（改）,18003720418,SQ01\r\n"  # line 3: changed name
            "5106810199002,赵六,12ab,SQ01\r\n")               # line 4: refused (phone)


def _residents(console) -> dict:
    return {r["card"]: r for r in console.json("list", "residents")}


def _preview(page, content: bytes) -> None:
    page.set_input_files("input[type=file]", files=[{"name": "名册.csv", "mimeType": "text/csv", "buffer": content}])
    page.click("text=预览")
    page.wait_for_selector("#import-preview")


def test_a_gbk_register_previews_then_imports_on_confirmation(page, console):
    sign_in(page, console, "mgr", "/import")
    _preview(page, REGISTER.encode("gbk"))
    text = page.locator("#import-preview").inner_text()
    assert "新增 1 人，修改 1 人" in text and "不能导入 1 行" in text
    assert page.locator("table.added tbody tr").inner_text().split("\t")[:3] == ["2", "5106810199001", "王小明"]
    assert page.locator("table.changed tbody tr td").first.inner_text() == "3"
    refused = page.locator("table.refused tbody tr").inner_text()
    assert refused.startswith("4") and "手机" in refused
    shot(page, "import-preview")
    before = _residents(console)
    assert "5106810199001" not in before and before["5106810100001"]["name"] == "郝海燕"  # nothing yet

    page.click("#import-commit")
    page.wait_for_selector("#import-done")
    assert "新增 1 人，修改 1 人" in page.locator("#import-done").inner_text()
    after = _residents(console)
    assert after["5106810199001"]["name"] == "王小明"
    assert after["5106810100001"]["name"] == "郝海燕（改）"
    assert "5106810199002" not in after


def test_a_stale_preview_imports_nothing(page, browser, console):
    sign_in(page, console, "mgr", "/import")
    _preview(page, REGISTER.encode("utf-8"))
    # meanwhile someone else imports a register that changes a resident this one names
    other = "卡号,姓名,手机,社区\n5106810100001,郝海燕二,18003720418,SQ01\n"
    p2 = browser.new_context(locale="zh-CN").new_page()  # another staff member's browser
    sign_in(p2, console, "boss", "/import")
    _preview(p2, other.encode("utf-8"))
    p2.click("#import-commit")
    p2.wait_for_selector("#import-done")
    page.click("#import-commit")
    assert "已被别人先改动" in page.locator("p.error").inner_text()
    assert "5106810199001" not in _residents(console)


def test_an_auditor_cannot_import(page, console):
    sign_in(page, console, "aud", "/reports")
    assert page.locator("nav.main a", has_text="导入名册").count() == 0
    page.goto(f"{console.url}/import")
    assert "不允许" in page.locator("p.error").inner_text()
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
    r = page.request.post(f"{console.url}/import/preview",
                          multipart={"_csrf": token, "file": {"name": "r.csv", "mimeType": "text/csv",
                                                              "buffer": REGISTER.encode("utf-8")}})
    assert r.status == 403
    assert "5106810199001" not in _residents(console)


def test_a_long_register_previews_a_page_at_a_time_and_imports_whole(page, console):
    lines = ["卡号,姓名,手机,社区"] + [f"5106819{i:06d},新居民{i % 10},139{i:08d},SQ01" for i in range(450)]
    sign_in(page, console, "mgr", "/import")
    _preview(page, ("\r\n".join(lines) + "\r\n").encode("gb18030"))
    assert "新增 450 人" in page.locator("#import-preview").inner_text()
    seen = []
    for expect in (200, 200, 50):
        rows = page.locator("table.added tbody tr")
        assert rows.count() == expect
        seen += [rows.nth(i).locator("td").first.inner_text() for i in range(expect)]
        if expect == 200:
            page.click("#import-next_page")
            page.wait_for_selector("#import-preview")
    assert seen == [str(n) for n in range(2, 452)]  # every line once, in order
    assert page.locator("#import-next_page").count() == 0
    page.click("#import-commit")
    page.wait_for_selector("#import-done")
    assert "新增 450 人" in page.locator("#import-done").inner_text()
    assert sum(1 for card in _residents(console) if card.startswith("5106819")) == 450
