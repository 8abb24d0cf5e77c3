"""书记信箱 and 村民说事 on the public pages (no sign-in): a community's monthly handling log
with its figures, names as the board writes them and never the resident's words; one item
by its tracking code; the rating by code, once, which then reaches the kiosks and turns a
later kiosk rating into a review item."""

from server.services import voice
from server.services.staff import SYSTEM
from server.store import ledger
from sync import tracking
from sync.board import board_name
from sync.calendar import local_month
from tests.conftest import T0
from tests.server.staff.conftest import SQ01_CARD
from tests.server.staff.test_voice import feed_row, letters, push  # noqa: F401  (the fixture)

MONTH = local_month(T0)


def resident_name(ctx, card):
    with ctx.store.read() as db:
        return db.sql.execute("SELECT name FROM residents WHERE card = ?", [card]).fetchone()[0]


def test_the_months_log_and_figures_name_residents_as_the_board_does(client, ctx, letters):
    code = letters["SQ01"]
    voice.reply(ctx, SYSTEM, code, "已修好")
    voice.done(ctx, SYSTEM, code)
    page = client.get(f"/public/voice/SQ01/{MONTH}")
    assert page.status_code == 200
    html = page.text
    name = resident_name(ctx, SQ01_CARD)
    assert board_name(name, SQ01_CARD) in html and name not in html
    assert "村口路灯坏了三天了" not in html and "已修好" in html and code in html
    assert "书记信箱" in html and "已办结" in html
    assert letters["SQ02"] not in html  # another community's
    assert client.get("/public/voice/").status_code == 200
    assert "SQ01" in client.get("/public/voice/").text


def test_a_done_item_is_rated_once_by_its_code_and_a_later_kiosk_rating_is_reviewed(client, ctx, letters):
    code, k1 = letters["SQ01"], letters["k1"]
    page = client.get(f"/public/voice/item/{code}")
    assert page.status_code == 200 and 'id="rate-form"' not in page.text  # not done yet
    refused = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5"}, follow_redirects=False)
    assert refused.status_code == 409 and "还没有办结" in refused.text
    voice.reply(ctx, SYSTEM, code, "已修好")
    voice.done(ctx, SYSTEM, code)
    assert 'id="rate-form"' in client.get(f"/public/voice/?code={code.replace('-', ' ')}").text  # the look-up form
    bad = client.post(f"/public/voice/item/{code}/rate", data={"stars": "9"}, follow_redirects=False)
    assert bad.status_code == 422 and "一到五颗星" in bad.text
    rated = client.post(f"/public/voice/item/{code}/rate", data={"stars": "4"}, follow_redirects=False)
    assert rated.status_code == 303 and rated.headers["location"] == f"/public/voice/item/{code}?rated=1"
    assert "谢谢您的评价" in client.get(rated.headers["location"]).text
    again = client.post(f"/public/voice/item/{code}/rate", data={"stars": "1"}, follow_redirects=False)
    assert again.status_code == 409 and "已经评价过了" in again.text
    assert voice.item(ctx, SYSTEM, code)["stars"] == 4 and feed_row(ctx, code)[1]["stars"] == 4
    push(k1, k1.rate(SQ01_CARD, code, 2))  # the kiosk had not pulled it yet
    with ctx.store.read() as db:
        reasons = [i["detail"]["reason"] for i in ledger.list_reviews(db) if i["kind"] == "voice_rating_refused"]
    assert reasons == ["rated"] and voice.item(ctx, SYSTEM, code)["stars"] == 4
    rep = voice.public_summary(ctx, "SQ01", MONTH)
    assert rep[0]["rated"] == 1 and rep[0]["share_4_5"] == 100.0


def test_bad_codes_and_unknown_items_are_pages_in_words(client):
    wrong = tracking.tracking_code("K0001", 5)[:-1] + "0"
    if tracking.tracking_code("K0001", 5).endswith("0"):
        wrong = wrong[:-1] + "1"
    page = client.get(f"/public/voice/item/{wrong}")
    assert page.status_code == 422 and "请核对回执上的每一位数字" in page.text
    page = client.get(f"/public/voice/item/{tracking.tracking_code('K0999', 3)}")
    assert page.status_code == 404 and "没有查询码为" in page.text
    assert client.get("/public/voice/NOPE/2026-01").status_code == 404
