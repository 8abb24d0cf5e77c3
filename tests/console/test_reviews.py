"""The review queue: evidence written for a person, a resolution with a confirmation step,
two staff resolving one item, and what each role may not do."""

import re

from playwright.sync_api import expect

from tests.console.conftest import keep_screenshot

CARD_A = "5106810100001"  # SQ01; shop S01 is SQ01's


def open_item(console, page) -> int:
    page.goto(console.url + "/reviews")
    page.click("#queue >> text=积分透支")
    page.wait_for_url(re.compile(r"/reviews/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def choose(page, action_label: str, note: str, points: str = "") -> None:
    page.select_option("select[name=action]", label=action_label)
    page.fill("input[name=points]", points)
    page.fill("textarea[name=note]", note)
    page.click("text=下一步：确认")


def test_a_reconciler_resolves_an_overdraft_after_confirming_and_sees_the_balance(console, page, sign_in, overdraft):
    kiosk = overdraft(CARD_A)
    sign_in(page, "rex")
    item = open_item(console, page)
    what = page.locator("#what")
    expect(what).to_contain_text(CARD_A)
    expect(what).to_contain_text(kiosk.id)
    expect(what).to_contain_text("终端记录于")
    balances = page.locator("#balances")
    expect(balances).to_contain_text(re.compile(r"这笔之前 -?\d+ 分，之后 -\d+ 分"))
    expect(page.locator("#events")).to_contain_text("兑换 毛巾×40")  # goods and shop by name
    expect(page.locator("#events")).to_contain_text("积分兑换超市")
    assert "{" not in page.locator("main").inner_text()  # words, not JSON
    keep_screenshot(page, "review-item-zh")
    choose(page, "由店铺承担", "店员未核对余额")
    expect(page.locator("#confirm-text")).to_have_text(f"将对审核事项 {item} 执行：由店铺承担。原因：店员未核对余额")
    page.click("text=确认处理")
    expect(page.locator(".notice")).to_have_text(f"审核事项 {item} 已处理")
    expect(page.locator("#resolution")).to_contain_text("rex")
    expect(page.locator("#resolution")).to_contain_text("店员未核对余额")
    expect(page.locator("#balances")).to_contain_text("现在 0 分")  # the shop bore the overdraft
    page.goto(console.url + f"/residents/{CARD_A}")
    expect(page.locator("#balance")).to_have_text("0 分")
    keep_screenshot(page, "resident-zh")
    expect(page.locator("#history tr").nth(1)).to_contain_text(re.compile(rf"中心补回（由店铺承担）：店员未核对余额\s*（审核事项 {item}）"))
    expect(page.locator("#history")).not_to_contain_text("review")


def test_cancelling_at_the_confirmation_changes_nothing(console, page, sign_in, overdraft):
    overdraft(CARD_A)
    sign_in(page, "rex")
    item = open_item(console, page)
    choose(page, "项目核销", "测试")
    page.click("text=取消")
    expect(page).to_have_url(console.url + f"/reviews/{item}")
    expect(page.locator("#resolve-form")).to_be_visible()


def test_two_staff_resolving_one_item_one_wins_and_the_other_is_told(console, browser, sign_in, overdraft):
    overdraft(CARD_A)
    one, two = browser.new_context(), browser.new_context()
    rex, rita = sign_in(one.new_page(), "rex"), sign_in(two.new_page(), "rita")
    item = open_item(console, rex)
    open_item(console, rita)
    choose(rex, "由店铺承担", "rex 先处理")
    choose(rita, "项目核销", "rita 也处理")
    rex.click("text=确认处理")
    expect(rex.locator(".notice")).to_have_text(f"审核事项 {item} 已处理")
    with rita.expect_response(re.compile(r"/resolve$")) as resp:
        rita.click("text=确认处理")
    assert resp.value.status == 409
    expect(rita.locator(".error")).to_have_text(f"审核事项 {item} 已由 rex 处理，你的处理没有生效")
    rita.goto(console.url + f"/reviews/{item}")
    expect(rita.locator("#resolution")).to_contain_text("rex 先处理")
    expect(rita.locator("#resolution")).not_to_contain_text("rita 也处理")
    one.close(), two.close()


def test_a_resolution_beyond_the_item_waits_for_a_second_person(console, browser, sign_in, overdraft):
    overdraft(CARD_A)
    one, two = browser.new_context(), browser.new_context()
    rex, rita = sign_in(one.new_page(), "rex"), sign_in(two.new_page(), "rita")
    item = open_item(console, rex)
    choose(rex, "调整积分", "多补一些", "5000")
    rex.click("text=确认处理")
    expect(rex.locator(".notice")).to_contain_text("等待第二人批准")
    rex.fill("textarea[name=note]", "自己批准")
    rex.click("button:has-text('批准')")
    expect(rex.locator(".error")).to_have_text("你的角色或社区范围不允许这样做")
    rita.goto(console.url + f"/reviews/{item}")
    rita.fill("textarea[name=note]", "核实无误")
    rita.click("button:has-text('批准')")
    expect(rita.locator(".notice")).to_have_text(f"已批准，审核事项 {item} 已处理")
    one.close(), two.close()


def test_an_auditor_sees_the_evidence_but_cannot_resolve(console, page, sign_in, overdraft):
    overdraft(CARD_A)
    sign_in(page, "aud")
    item = open_item(console, page)
    expect(page.locator("#events")).to_contain_text("兑换")
    expect(page.locator("#resolve-form")).to_have_count(0)
    csrf = page.locator("input[name=_csrf]").first.get_attribute("value")
    resp = page.request.post(console.url + f"/reviews/{item}/resolve",
                             form={"_csrf": csrf, "action": "write-off", "note": "审计员不能处理"})
    assert resp.status == 403 and "你的角色或社区范围不允许这样做" in resp.text()
    page.reload()
    expect(page.locator("#resolution")).not_to_contain_text("审计员不能处理")


def test_a_community_manager_sees_only_items_of_their_community(console, browser, sign_in, overdraft):
    overdraft(CARD_A)
    one, two = browser.new_context(), browser.new_context()
    cm1, cm2 = sign_in(one.new_page(), "cm1"), sign_in(two.new_page(), "cm2")
    item = open_item(console, cm1)
    cm2.goto(console.url + "/reviews")
    expect(cm2.locator("main")).to_contain_text("没有事项")
    resp = cm2.goto(console.url + f"/reviews/{item}")
    assert resp.status == 403
    expect(cm2.locator(".error")).to_have_text("你的角色或社区范围不允许这样做")
    # and a charge to the shop is not a community manager's to make
    choose(cm1, "由店铺承担", "社区想让店铺承担")
    cm1.click("text=确认处理")
    expect(cm1.locator(".error")).to_have_text("你的角色或社区范围不允许这样做")
    one.close(), two.close()
