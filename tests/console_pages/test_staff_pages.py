"""Staff accounts in a real browser: an admin adds a community manager (the generated
password shown once), who signs in with it and sees only their community, changes their
password (signed out, in again with the new one) and is disabled by the admin (signed out
everywhere); the audit log filters by action; a locked sign-in is listed. Community
managers, reconcilers and auditors have no staff page; only admins and auditors read the log."""

import json

from tests.console_pages.conftest import PASSWORD, sign_in


def _sign_in_as(page, console, username, password, to="/reports"):
    page.goto(f"{console.url}/signin?next={to}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button.primary")


def test_accounts_passwords_audit_log_and_lockouts(page, browser, console):
    sign_in(page, console, "boss", "/staff")
    page.fill("#staff-form input[name=username]", "li.si")
    page.select_option("#staff-form select[name=role]", "community_manager")
    page.fill("#staff-form input[name=communities]", "SQ02")
    page.click("#staff-form button.primary")
    password = page.locator("#secret-value").inner_text()
    row = page.locator("#staff-table tr", has_text="li.si").inner_text()
    assert "社区管理员" in row and "SQ02" in row

    other = browser.new_context(locale="zh-CN").new_page()
    _sign_in_as(other, console, "li.si", password, "/reports/coverage?month=2026-01")
    other.wait_for_url("**/reports/coverage*")
    assert other.locator("#report table tbody tr td:first-child").all_inner_texts() == ["SQ02"]
    assert other.locator("nav.main a", has_text="工作人员").count() == 0

    # their own password: the current one is needed; then every session ends
    other.goto(f"{console.url}/password")
    other.fill("input[name=current]", password)
    other.fill("input[name=password]", "a new secret 99")
    other.fill("input[name=repeat]", "a new secret 99")
    other.click("form.stack button.primary")
    assert "请用新密码重新登录" in other.locator("p.notice").inner_text()
    _sign_in_as(other, console, "li.si", "a new secret 99")
    other.wait_for_url("**/reports")

    # disabled by the admin: the open session is over
    page.goto(f"{console.url}/staff")
    page.locator("#staff-table tr", has_text="li.si").locator("text=停用").click()
    assert "已停用" in page.locator("p.notice").inner_text()
    other.goto(f"{console.url}/reports")
    other.wait_for_url("**/signin**")

    # the audit log, filtered by action
    page.goto(f"{console.url}/audit?action=staff_add")
    rows = page.locator("#audit-table tbody tr").all_inner_texts()
    assert any("li.si" in r and "新建账号" in r for r in rows)
    assert all("新建账号" in r for r in rows)
    # each entry's detail in words, not JSON
    added = next(r for r in rows if "li.si" in r)
    assert "角色：社区管理员" in added and "社区：SQ02" in added and "{" not in added and '"' not in added
    page.fill("input[name=action]", "staff_disable")
    page.click("form.row button.primary")
    page.wait_for_url("**action=staff_disable*")
    assert "停用账号" in page.locator("#audit-table tbody tr").first.inner_text()

    # five wrong passwords lock a sign-in; the admin sees it
    for _ in range(5):
        _sign_in_as(other, console, "recon", "wrong password")
        other.wait_for_selector("p.error")
    page.goto(f"{console.url}/staff")
    assert "recon" in page.locator("#lockouts").inner_text()


def test_who_may_not_see_staff_pages(page, console):
    sign_in(page, console, "mgr", "/reports")
    assert page.locator("nav.main a", has_text="工作人员").count() == 0
    page.goto(f"{console.url}/staff")
    assert "不允许" in page.locator("p.error").inner_text()
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
    r = page.request.post(f"{console.url}/staff", form={"_csrf": token, "username": "evil", "role": "admin", "password": PASSWORD})
    assert r.status == 403
    page.goto(f"{console.url}/audit")
    assert "不允许" in page.locator("p.error").inner_text()
    assert "evil" not in [a["username"] for a in console.json("staff", "list")]


def test_an_auditor_reads_the_log_but_manages_no_one(page, console):
    sign_in(page, console, "aud", "/audit")
    assert page.locator("#audit-table tbody tr").count() >= 4  # the accounts made for this test
    page.goto(f"{console.url}/staff")
    assert "不允许" in page.locator("p.error").inner_text()
