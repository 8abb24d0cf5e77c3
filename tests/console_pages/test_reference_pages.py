"""Reference data in a real browser: an admin changes a rule now and schedules another
change (both in the rule's history), saves and retires a good, resets an operator's PIN
(shown once) and makes a kiosk enrolment code; a community manager sees the tables but no
form, and a change posted anyway is refused with nothing changed."""

import json

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from tests.console_pages.conftest import sign_in


def _log(console, action):
    return [r for r in console.json("staff", "log") if r["action"] == action]


def test_an_admin_changes_rules_goods_operators_and_kiosks(page, console, tmp_path):
    sign_in(page, console, "boss", "/reference")
    assert page.locator("nav.tabs a.here").inner_text() == "积分规则"

    # a rule changed now: in effect at once
    page.fill("#rule-form input[name=code]", "LJFL")
    page.fill("#rule-form input[name=name]", "垃圾分类（新）")
    page.select_option("#rule-form select[name=kind]", "basic")
    page.fill("#rule-form input[name=points]", "7")
    page.click("#rule-form button.primary")
    assert "已修改" in page.locator("p.notice").inner_text()
    row = page.locator("#ref-table tr", has_text="LJFL")
    assert "垃圾分类（新）" in row.inner_text() and "7" in row.inner_text()

    # a change scheduled for later: waiting in the history, the rule as it was
    page.fill("#rule-form input[name=code]", "LJFL")
    page.fill("#rule-form input[name=name]", "垃圾分类（新）")
    page.fill("#rule-form input[name=points]", "9")
    page.fill("#rule-form input[name=effective_at]", "2030-01-01T08:00")
    page.click("#rule-form button.primary")
    assert "已排定" in page.locator("p.notice").inner_text()
    page.locator("#ref-table tr", has_text="LJFL").locator("text=修改记录").click()
    page.wait_for_selector("#rule-history")
    history = page.locator("#rule-history tbody tr").all_inner_texts()
    assert any("待生效" in h and "9" in h for h in history) and any("已生效" in h and "7" in h for h in history)
    assert len(_log(console, "rule_change")) == 2

    # goods: saved, then retired
    page.click("nav.tabs >> text=商品与价格")
    page.fill("input[name=sku]", "TEA")
    page.fill("input[name=name]", "茶叶")
    page.fill("input[name=unit]", "包")
    page.fill("input[name=price]", "35")
    page.click("form.row button.primary")
    assert "TEA 已保存" in page.locator("p.notice").inner_text()
    page.locator("#ref-table tr", has_text="TEA").locator("text=停用").click()
    assert "TEA 已停用" in page.locator("p.notice").inner_text()
    assert "已注销" in page.locator("#ref-table tr", has_text="TEA").inner_text()

    # an operator's new PIN, shown once and never again
    page.click("nav.tabs >> text=店员")
    page.locator("#ref-table tr", has_text="op1").locator("text=重设 PIN").click()
    pin = page.locator("#secret-value").inner_text()
    assert pin.isdigit() and len(pin) == 6
    page.goto(f"{console.url}/reference?table=operators")
    assert page.locator("#secret-value").count() == 0
    assert [r["subject"] for r in _log(console, "operator_pin")] == ["op1"]

    # a kiosk enrolment code for a shop
    page.click("nav.tabs >> text=终端")
    page.select_option("select[name=shop]", "S02")
    page.click("text=生成登记码")
    code = page.locator("#secret-value").inner_text()
    assert len(code.replace("-", "")) == 12
    assert [r["subject"] for r in _log(console, "enroll_code")] == ["S02"]

    # a real kiosk enrols with that code; it is listed, re-keyed by force, then revoked
    kiosk = KioskService(kiosk_settings.load(tmp_path / "kiosk", lang="zh", timeout=5.0))
    try:
        kiosk.enroll(console.url, code)
    finally:
        kiosk.close()
    page.goto(f"{console.url}/reference?table=kiosks")
    row = page.locator("#ref-table tbody tr", has_text="S02")
    kiosk_id = row.locator("td").first.inner_text()
    row.locator("text=强制换密钥").click()
    assert "旧密钥已作废" in page.locator(".secret").inner_text()
    page.locator("#ref-table tbody tr", has_text=kiosk_id).locator("text=吊销").click()
    assert f"终端 {kiosk_id} 已吊销" in page.locator("p.notice").inner_text()
    assert "已停用" in page.locator("#ref-table tbody tr", has_text=kiosk_id).inner_text()
    assert [r["subject"] for r in _log(console, "kiosk_rotate")] == [kiosk_id]
    assert [r["subject"] for r in _log(console, "kiosk_revoke")] == [kiosk_id]

    # bad input: named in Chinese, nothing changed
    page.goto(f"{console.url}/reference?table=goods")
    page.fill("input[name=sku]", "SALT")
    page.fill("input[name=name]", "盐")
    page.fill("input[name=unit]", "袋")
    page.fill("input[name=price]", "十块")
    page.click("form.row button.primary")
    assert "兑换积分必须是" in page.locator("p.error").inner_text()
    assert not [r for r in _log(console, "good_put") if r["subject"] == "SALT"]


def test_a_community_manager_cannot_edit_reference_data(page, console):
    sign_in(page, console, "mgr", "/reference")
    assert page.locator("#ref-table tbody tr").count() > 0
    assert page.locator("#rule-form").count() == 0
    page.goto(f"{console.url}/reference?table=operators")
    assert page.locator("text=重设 PIN").count() == 0
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
    r = page.request.post(f"{console.url}/reference/rules",
                          form={"_csrf": token, "code": "LJFL", "name": "x", "kind": "basic", "points": "99"})
    assert r.status == 403 and "不允许" in r.text()
    r = page.request.post(f"{console.url}/reference/operators/op1/pin", form={"_csrf": token})
    assert r.status == 403
    assert not _log(console, "rule_change") and not _log(console, "operator_pin")
