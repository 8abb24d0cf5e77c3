"""书记信箱 and 村民说事 in the console: a letter pushed by a kiosk over HTTP appears in its
community manager's queue; assign, reply and mark done go through the same use cases as
the API, reach the community's kiosks (the ``voice_reply`` feed), and count in the voice
report and its CSV; a manager of another community may not open it."""

import io
import re

import httpx
import msgspec
import openpyxl
from playwright.sync_api import expect

from sync.calendar import local_month
from tests.conftest import T0, Clock
from tests.server.kiosk_double import KioskDouble, verified

CARD_A = "5106810100001"  # SQ01; shop S01 is SQ01's


def pushed_letter(console) -> tuple[KioskDouble, str]:
    client = httpx.Client(base_url=console.url, timeout=30)
    k = KioskDouble(client, 11, Clock())
    assert k.enroll(console.enroll_code("S01")).status_code == 200
    ev = k.voice(CARD_A, "letter", "村口路灯坏了三天，晚上看不见路")
    assert k.push(k.batch(ev)).status_code == 200
    return k, ev.code


def reply_row(k: KioskDouble, code: str) -> dict | None:
    page = msgspec.json.decode(verified(k.pull(limit=1000), k.server_key))
    rows = [c for c in page["changes"] if c["kind"] == "voice_reply" and c["key"] == code]
    while page["more"]:
        page = msgspec.json.decode(verified(k.pull(cursor=page["next"], limit=1000), k.server_key))
        rows += [c for c in page["changes"] if c["kind"] == "voice_reply" and c["key"] == code]
    return rows[-1]["data"] if rows else None


def test_a_manager_assigns_replies_and_closes_a_letter_and_it_counts(console, page, sign_in):
    k, code = pushed_letter(console)
    sign_in(page, "cm1")
    page.click("nav >> text=书记信箱·村民说事")
    expect(page.locator("#voice-queue")).to_contain_text(code)
    page.click(f"#voice-queue >> text={code}")
    page.wait_for_url(re.compile(rf"/voice/{code}$"))
    expect(page.locator("#text")).to_have_text("村口路灯坏了三天，晚上看不见路")
    expect(page.locator("h1")).to_contain_text("待办理")
    page.select_option("#assign-form select[name=staff]", "mgr")
    page.click("#assign-form button")
    expect(page.locator(".notice")).to_have_text(f"{code} 已交办")
    page.fill("#reply-form textarea[name=reply]", "已安排电工，明天修好")
    page.click("#reply-form button")
    expect(page.locator(".notice")).to_have_text(f"{code} 已答复")
    page.click("#done-form button")
    expect(page.locator(".notice")).to_contain_text("已办结")
    steps = page.locator("#steps").inner_text()
    assert [s in steps for s in ("收到", "交办 → mgr", "答复：已安排电工，明天修好", "办结")] == [True] * 4
    assert "cm1" in steps
    expect(page.locator("#handle")).to_have_count(0)  # closed: nothing more to do
    row = reply_row(k, code)
    assert row["status"] == "done" and row["reply"] == "已安排电工，明天修好" and "text" not in row

    k.push(k.batch(k.rate(CARD_A, code, 5)))
    month = local_month(T0)
    page.goto(f"{console.url}/reports/voice?month={month}")
    body = page.locator("#report").inner_text()
    assert "书记信箱" in body and "100" in body  # one letter, rated 5: all rated 4-5
    with page.expect_download() as dl:
        page.click("text=下载 CSV")
    text = open(dl.value.path(), "rb").read().decode("utf-8-sig")
    assert "满意率" in text.splitlines()[0] and "书记信箱" in text
    with page.expect_download() as dl:
        page.click("text=下载 Excel")
    book = openpyxl.load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert book.active.max_row >= 2


def test_another_communitys_manager_neither_lists_nor_opens_it_and_a_post_needs_its_token(console, page, sign_in):
    _, code = pushed_letter(console)
    sign_in(page, "cm2")
    page.goto(console.url + "/voice")
    expect(page.locator("main")).not_to_contain_text(code)
    resp = page.goto(f"{console.url}/voice/{code}")
    assert resp.status == 403 and "{" not in page.locator("main").inner_text()
    page.context.clear_cookies()
    sign_in(page, "aud")  # an auditor reads, and has nothing to handle with
    page.goto(f"{console.url}/voice/{code}")
    expect(page.locator("#text")).to_be_visible()
    expect(page.locator("#handle")).to_have_count(0)
    page.context.clear_cookies()
    sign_in(page, "cm1")
    resp = page.request.post(f"{console.url}/voice/{code}/done", headers={"x-csrf-token": "wrong"})
    assert resp.status == 403  # no CSRF token: refused before the use case
