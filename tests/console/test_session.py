"""Signing in and out of the console, its language, and what protects the session."""

import re

from playwright.sync_api import expect

from tests.console.conftest import PASSWORD, keep_screenshot


def test_a_page_without_a_session_goes_to_the_sign_in_page_in_chinese(console, page):
    page.goto(console.url + "/reviews")
    expect(page).to_have_url(re.compile(r"/signin\?next=/reviews$"))
    expect(page.locator("h1")).to_have_text("工作人员登录")


def test_sign_in_shows_the_dashboard_and_english_after_switching(console, page, sign_in):
    sign_in(page, "admin")
    expect(page.locator("h1")).to_have_text("总览")
    expect(page.locator("nav.main")).to_contain_text("居民")
    path = keep_screenshot(page, "dashboard-zh")
    assert path.stat().st_size > 10_000
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("nav.main")).to_contain_text("Residents")
    page.goto(console.url + "/residents")  # the choice stays with the browser
    expect(page.locator("h1")).to_have_text("Residents")
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("居民")


def test_a_wrong_password_is_refused_in_words_and_counts_towards_the_lockout(console, page, sign_in):
    for _ in range(5):
        sign_in(page, "rex", "not the password")
        expect(page.locator(".error")).to_have_text("用户名或密码不对，或账号已停用")
    sign_in(page, "rex", PASSWORD)  # locked, as the API is: the right password too
    expect(page.locator(".error")).to_contain_text("登录失败次数太多")
    expect(page.locator("h1")).to_have_text("工作人员登录")


def test_after_signing_in_the_page_asked_for_opens(console, page, sign_in):
    page.goto(console.url + "/reviews")
    page.fill("input[name=username]", "aud")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    expect(page).to_have_url(console.url + "/reviews")
    expect(page.locator("h1")).to_have_text("待审核事项")


def test_sign_out_ends_this_session_and_sign_out_everywhere_every_one(console, browser, sign_in):
    one, two = browser.new_context(), browser.new_context()
    a, b = sign_in(one.new_page(), "rex"), sign_in(two.new_page(), "rex")
    a.click("text=退出登录")
    expect(a.locator(".notice")).to_have_text("已退出登录")
    a.goto(console.url + "/")
    expect(a).to_have_url(re.compile(r"/signin"))
    b.goto(console.url + "/")
    expect(b.locator("h1")).to_have_text("总览")  # the other browser is still signed in
    a = sign_in(a, "rex")
    a.click("text=在所有设备上退出")
    expect(a.locator(".notice")).to_contain_text("已在所有设备上退出登录")
    b.goto(console.url + "/")
    expect(b).to_have_url(re.compile(r"/signin"))
    one.close(), two.close()


def test_the_session_cookie_is_http_only_and_same_site(console, page, context, sign_in):
    sign_in(page, "admin")
    [cookie] = [c for c in context.cookies() if c["name"] == "jifen_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert not cookie["secure"]  # plain http on loopback here; Secure over TLS


def test_every_page_sends_a_csp_without_inline_scripts(console, page, sign_in):
    sign_in(page, "admin")
    for path in ("/", "/residents", "/reviews", "/signin"):
        resp = page.goto(console.url + path)
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("[style]").count() == 0
        assert page.locator("[onclick], [onload], [onsubmit]").count() == 0


def test_a_form_without_its_csrf_token_is_refused(console, page, sign_in):
    sign_in(page, "admin")
    resp = page.request.post(console.url + "/signout", form={"x": "1"})  # the session cookie, no token
    assert resp.status == 403
    assert "表单已失效" in resp.text()
    resp = page.request.post(console.url + "/signout", form={"_csrf": "0" * 64})
    assert resp.status == 403
    page.goto(console.url + "/")
    expect(page.locator("h1")).to_have_text("总览")  # still signed in: nothing happened


def test_no_page_asks_anything_of_another_server(console, page, sign_in, overdraft):
    overdraft("5106810100001")
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    sign_in(page, "admin")
    page.goto(console.url + "/residents?q=z")
    page.fill("input[name=q]", "zs")  # htmx fetches the results as one types
    page.wait_for_timeout(600)
    page.goto(console.url + "/reviews")
    page.click("#queue a >> nth=0")
    page.wait_for_load_state()
    page.click("a.lang")
    assert any("/static/htmx.min.js" in u for u in seen) and any("/static/console.css" in u for u in seen)
    outside = [u for u in seen if not u.startswith(console.url + "/")]
    assert not outside, outside
