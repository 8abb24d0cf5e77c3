"""Residents: found by name, pinyin initials, card or phone tail; a resident's page says
where the points went, adding up to the balance; a community manager sees only theirs."""

import re
import sqlite3

from playwright.sync_api import expect

CARD_A = "5106810100001"  # SQ01
CARD_B = "5106810200001"  # SQ02


def resident(console, card: str) -> dict:
    with sqlite3.connect(console.data / "server.db") as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM residents WHERE card = ?", [card]).fetchone())


def test_a_resident_is_found_by_initials_name_card_and_phone_tail(console, page, sign_in):
    r = resident(console, CARD_A)
    sign_in(page, "admin")
    page.click("nav.main >> text=居民")
    for query in (r["initials"], r["name"], CARD_A, r["phone"][-4:]):
        page.fill("input[name=q]", "")
        page.fill("input[name=q]", query)  # htmx fetches the results as one types
        expect(page.locator("#results")).to_contain_text(CARD_A)
    page.click(f"#results a[href='/residents/{CARD_A}']")
    expect(page.locator("h1")).to_contain_text(r["name"])


def test_a_residents_history_adds_up_to_the_balance_with_receipt_codes_and_open_items(console, page, sign_in, overdraft):
    kiosk = overdraft(CARD_A)
    award = kiosk.award(CARD_A, "ZYFW", 10)
    assert kiosk.push(kiosk.batch(award)).status_code == 200
    with sqlite3.connect(console.data / "server.db") as db:
        balance = db.execute("SELECT sum(amount) FROM postings WHERE account = ?", [f"resident:{CARD_A}"]).fetchone()[0]
    sign_in(page, "admin")
    page.goto(console.url + f"/residents/{CARD_A}")
    rows = page.locator("#history tr")
    newest, redeemed = rows.nth(1), rows.nth(2)
    expect(newest).to_contain_text("志愿服务")
    expect(newest).to_contain_text("+10")
    expect(redeemed).to_contain_text("兑换 毛巾×40")
    expect(redeemed).to_contain_text("-2000")
    expect(redeemed).to_contain_text(kiosk.id)
    expect(redeemed.locator("td").nth(6)).to_have_text(re.compile(rf"^{kiosk.id}-\d+$"))  # the receipt's 单号
    # each running balance is the one below it plus its points, down to zero before the first
    table = [[c.inner_text() for c in rows.nth(i).locator("td").all()] for i in range(1, rows.count())]
    below = 0
    for cells in reversed(table):
        below += int(cells[4])
        assert int(cells[5]) == below, cells
    assert below == balance
    expect(page.locator("#balance")).to_have_text(f"{balance} 分")
    expect(page.locator("#adds-up")).to_contain_text(f"合计 {balance} 分")
    expect(page.locator("#open-reviews")).to_contain_text("积分透支")


def test_a_community_manager_cannot_see_another_communitys_resident(console, page, sign_in):
    b = resident(console, CARD_B)
    sign_in(page, "cm1")
    page.goto(console.url + "/residents?q=" + CARD_B)
    expect(page.locator("#results")).to_contain_text("没有找到符合的居民")
    page.goto(console.url + "/residents?q=" + b["name"])
    expect(page.locator("#results")).not_to_contain_text(CARD_B)
    resp = page.goto(console.url + f"/residents/{CARD_B}")
    assert resp.status == 404
    expect(page.locator(".error")).to_have_text(f"居民 {CARD_B} 不存在")
    resp = page.goto(console.url + f"/residents/{CARD_A}")  # their own community's is there
    assert resp.status == 200
