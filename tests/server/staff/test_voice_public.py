"""书记信箱 and 村民说事 on the public pages (no sign-in): a community's monthly handling log
with its figures, names as the board writes them and never the resident's words; one item
by its tracking code; the rating by code, once, which then reaches the kiosks and turns a
later kiosk rating into a review item."""

import pytest

from server.errors import Forbidden, Invalid, PublicRatingRefused
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


def phone_tail(ctx, card):
    with ctx.store.read() as db:
        return db.sql.execute("SELECT phone FROM residents WHERE card = ?", [card]).fetchone()[0][-4:]


def wrong_tail(ctx, card):
    return f"{(int(phone_tail(ctx, card)) + 1) % 10000:04d}"


def failures(ctx, code):
    with ctx.store.read() as db:
        row = db.sql.execute("SELECT failures FROM voice_rate_failures WHERE code = ?", [code]).fetchone()
    return row[0] if row else 0


def done_item(ctx, code):
    voice.reply(ctx, SYSTEM, code, "已修好")
    voice.done(ctx, SYSTEM, code)
    return code


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
    tail = phone_tail(ctx, SQ01_CARD)
    refused = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5", "phone_tail": tail}, follow_redirects=False)
    assert refused.status_code == 409 and "还没有办结" in refused.text
    voice.reply(ctx, SYSTEM, code, "已修好")
    voice.done(ctx, SYSTEM, code)
    assert 'id="rate-form"' in client.get(f"/public/voice/?code={code.replace('-', ' ')}").text  # the look-up form
    bad = client.post(f"/public/voice/item/{code}/rate", data={"stars": "9", "phone_tail": tail}, follow_redirects=False)
    assert bad.status_code == 422 and "一到五颗星" in bad.text
    rated = client.post(f"/public/voice/item/{code}/rate", data={"stars": "4", "phone_tail": tail}, follow_redirects=False)
    assert rated.status_code == 303 and rated.headers["location"] == f"/public/voice/item/{code}?rated=1"
    assert "谢谢您的评价" in client.get(rated.headers["location"]).text
    again = client.post(f"/public/voice/item/{code}/rate", data={"stars": "1", "phone_tail": tail}, follow_redirects=False)
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


def test_wrong_phone_digits_are_refused_in_words_and_nothing_is_rated(client, ctx, letters):
    code = done_item(ctx, letters["SQ01"])
    page = client.get(f"/public/voice/item/{code}").text
    assert 'name="phone_tail"' in page
    wrong = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5", "phone_tail": wrong_tail(ctx, SQ01_CARD)},
                        follow_redirects=False)
    assert wrong.status_code == 403 and "手机号后四位不对" in wrong.text and "还可以再试 4 次" in wrong.text
    missing = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5", "phone_tail": "12a"}, follow_redirects=False)
    assert missing.status_code == 422 and "后四位数字" in missing.text  # not counted: not a try at four digits
    assert failures(ctx, code) == 1
    item = voice.item(ctx, SYSTEM, code)
    assert item["stars"] is None and [s["step"] for s in item["steps"]] == ["received", "replied", "done"]
    assert feed_row(ctx, code)[1].get("stars") is None
    client.cookies.set("jifen_lang", "en")
    english = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5", "phone_tail": wrong_tail(ctx, SQ01_CARD)})
    assert english.status_code == 403 and "do not match; nothing was rated. 3 tries left" in english.text
    client.cookies.delete("jifen_lang")
    ok = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5", "phone_tail": phone_tail(ctx, SQ01_CARD)},
                     follow_redirects=False)
    assert ok.status_code == 303 and voice.item(ctx, SYSTEM, code)["stars"] == 5  # right digits: rated, once
    assert [s["step"] for s in voice.item(ctx, SYSTEM, code)["steps"]].count("rated") == 1


def test_five_wrong_tries_lock_the_public_rating_and_a_kiosk_still_rates(client, ctx, letters):
    code, k1 = done_item(ctx, letters["SQ01"]), letters["k1"]
    wrong, right = wrong_tail(ctx, SQ01_CARD), phone_tail(ctx, SQ01_CARD)
    for left in (4, 3, 2, 1):
        page = client.post(f"/public/voice/item/{code}/rate", data={"stars": "1", "phone_tail": wrong})
        assert page.status_code == 403 and f"还可以再试 {left} 次" in page.text
    fifth = client.post(f"/public/voice/item/{code}/rate", data={"stars": "1", "phone_tail": wrong})
    assert fifth.status_code == 403 and "请到服务站评价" in fifth.text
    sixth = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5", "phone_tail": right}, follow_redirects=False)
    assert sixth.status_code == 403 and "输错次数太多" in sixth.text and "请到服务站评价" in sixth.text
    assert failures(ctx, code) == 5 and voice.item(ctx, SYSTEM, code)["stars"] is None
    page = client.get(f"/public/voice/item/{code}").text
    assert 'id="rate-form"' not in page and 'id="rate-station"' in page and "请到服务站评价" in page
    push(k1, k1.rate(SQ01_CARD, code, 3))  # at a kiosk, where the card must match
    assert voice.item(ctx, SYSTEM, code)["stars"] == 3 and feed_row(ctx, code)[1]["stars"] == 3


def test_a_resident_with_no_phone_on_file_is_sent_to_a_station(client, ctx, letters):
    code = done_item(ctx, letters["SQ01"])
    with ctx.store.write() as db:  # a register row from before phones were required
        db.sql.execute("UPDATE residents SET phone = '' WHERE card = ?", [SQ01_CARD])
    page = client.get(f"/public/voice/item/{code}").text
    assert 'id="rate-form"' not in page and "请到服务站评价" in page
    refused = client.post(f"/public/voice/item/{code}/rate", data={"stars": "5", "phone_tail": "0000"})
    assert refused.status_code == 403 and "没有登记手机号" in refused.text and "请到服务站评价" in refused.text
    assert failures(ctx, code) == 0 and voice.item(ctx, SYSTEM, code)["stars"] is None


def test_the_service_refuses_wrong_digits_by_reason_and_counts_them_durably(ctx, letters):
    code = done_item(ctx, letters["SQ01"])
    with pytest.raises(PublicRatingRefused) as wrong:
        voice.rate_public(ctx, code, 4, wrong_tail(ctx, SQ01_CARD))
    assert isinstance(wrong.value, Forbidden) and wrong.value.detail == {"item": code, "reason": "wrong_phone", "tries_left": 4}
    with pytest.raises(Invalid):
        voice.rate_public(ctx, code, 4, "12345")
    assert failures(ctx, code) == 1
    assert voice.public_log(ctx, code)["public_rating"] == "open" and "phone" not in voice.public_log(ctx, code)
    assert voice.rate_public(ctx, code, 4, f" {phone_tail(ctx, SQ01_CARD)} ") == {"code": code, "stars": 4}
    assert voice.public_log(ctx, code)["public_rating"] is None  # rated: nothing more to take
