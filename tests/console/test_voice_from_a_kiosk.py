"""书记信箱 the whole way round, with nothing standing in: a real kiosk (``KioskService``)
records a letter while the real ``jifen-server serve`` is down, syncs it once the server is
back, a community manager handles it in the console in Chromium (assign, reply, mark done),
a second kiosk of the community pulls the reply, the resident rates it there, and the
rating is on the public handling log (masked name, no letter text) and in the console's
monthly report."""

import os
import re

import pytest
from playwright.sync_api import expect

from sync.calendar import local_month
from tests.e2e.conftest import make_kiosk
from tests.server.conftest import CARD_A  # an SQ01 resident; S01 serves SQ01

__all__ = ["make_kiosk"]

LETTER = "村口路灯坏了三天，晚上看不见路"
REPLY = "已安排电工，明天修好"


@pytest.fixture
def server(console):
    """``make_kiosk`` enrols against the console's server."""
    return console


def test_a_letter_from_an_offline_kiosk_is_handled_in_the_console_and_rated_at_another(console, make_kiosk, page,
                                                                                      sign_in):
    k1, k2 = make_kiosk("k1"), make_kiosk("k2")
    console.stop()
    rec = k1.voice(CARD_A, "letter", "roads", LETTER, "op1", receipt=True)
    code = rec.event.code
    assert k1.voices(CARD_A)[0]["status"] == "pending"  # the slip's code exists offline
    console.start(env={**os.environ, "JIFEN_TICK_SECONDS": "0"})
    assert k1.sync().ok

    sign_in(page, "cm1")
    page.click("nav >> text=书记信箱·村民说事")
    expect(page.locator("#voice-queue")).to_contain_text(code)
    page.click(f"#voice-queue >> text={code}")
    page.wait_for_url(re.compile(rf"/voice/{code}$"))
    expect(page.locator("#text")).to_have_text(LETTER)
    page.select_option("#assign-form select[name=staff]", "mgr")
    page.click("#assign-form button")
    expect(page.locator(".notice")).to_have_text(f"{code} 已交办")
    page.fill("#reply-form textarea[name=reply]", REPLY)
    page.click("#reply-form button")
    expect(page.locator(".notice")).to_have_text(f"{code} 已答复")
    page.click("#done-form button")
    expect(page.locator(".notice")).to_contain_text("已办结")

    month = local_month(rec.event.at)
    before = letters(console, month)
    assert k2.sync().ok
    seen = next(i for i in k2.voices(CARD_A) if i["code"] == code)
    assert (seen["status"], seen["reply"], seen["may_rate"]) == ("done", REPLY, True)
    k2.rate_voice(CARD_A, code, 4, "op1")
    assert k2.sync().ok

    page.goto(f"{console.url}/public/voice/item/{code}")
    steps = page.locator("#steps").inner_text()
    assert REPLY in steps and "★★★★☆" in steps
    expect(page.locator("#rate-form")).to_have_count(0)  # rated once: no second form
    assert LETTER not in page.locator("main").inner_text()  # the letter's words stay with staff
    page.screenshot(path=str(console.data.parent / "public-voice-item.png"), full_page=True)

    after = letters(console, month)
    assert after["rated_4_5"] == before["rated_4_5"] + 1 and after["handled"] == before["handled"] >= 1
    page.goto(f"{console.url}/reports/voice?month={month}")
    expect(page.locator("#report")).to_contain_text("书记信箱")



def letters(console, month: str) -> dict:
    rep = console.json("report", "voice", "--month", month, "--community", "SQ01")
    return next(r for r in rep["rows"] if r["channel"] == "letter")
