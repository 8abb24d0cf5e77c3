"""书记信箱 and 村民说事 at the counter: a letter written in Chinese and its slip with the
tracking code, the resident returning by code or card to read the reply, one rating, and
scanner bursts landing where they can do no harm."""

import pytest

from schema.wire import AcceptsRec, VoiceReplyRec
from sync import tracking
from sync.protocol import BASE_EVENT_KINDS
from tests.kiosk.app.conftest import burst, message_text, screen_name, signed_in, typed
from tests.kiosk.conftest import COUNTER_T0
from tests.kiosk.fakeserver import CARD, CARD2

CODE = tracking.tracking_code("K0001", 1)


@pytest.fixture
def accepting(shop_kiosk, server):
    """The server names voice and voice_rating in its accepts row."""
    server.put("accepts", "events", AcceptsRec(events=sorted(BASE_EVENT_KINDS | {"voice", "voice_rating"})))
    assert shop_kiosk.sync().ok
    return shop_kiosk


def reply(server, code: str, status: str, text: str = "", stars: int | None = None, card: str = CARD, at: int = COUNTER_T0):
    server.put("voice_reply", code, VoiceReplyRec(code=code, resident=card, channel="letter", category="roads", at=at,
                                                  status=status, reply=text, replied_at=at + 1 if text else None,
                                                  done_at=at + 2 if status == "done" else None, stars=stars))


async def write_letter(pilot, text: str) -> None:
    await burst(pilot, *typed(CARD + "\n"))
    await burst(pilot, "f4")
    assert screen_name(pilot.app) == "VoiceScreen"
    await burst(pilot, "f2")
    assert screen_name(pilot.app) == "VoiceWriteScreen"
    await burst(pilot, "down", "enter")  # the second category (roads), then the text
    await burst(pilot, *typed(text), "f10")
    assert screen_name(pilot.app) == "ConfirmScreen"
    await burst(pilot, "enter")


async def test_a_letter_in_chinese_gets_a_slip_with_its_tracking_code(run, posted, accepting):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await write_letter(pilot, "村口路灯坏了三天，晚上看不见路")
        assert [m.event_id for m in posted] == ["K0001-1"] and screen_name(app) == "ReceiptScreen"
        assert app.screen.receipt.tracking == CODE
        saved = (accepting.settings.data_dir / "receipts" / "K0001-1.txt").read_text()
        assert f"查询码 {CODE}" in saved and "书记信箱 · 道路交通" in saved and "张*明" in saved
        assert "积分：" not in saved  # a letter moves no points
        row = accepting.store.event_row("K0001-1")
        assert row["kind"] == "voice" and "村口路灯坏了三天" in bytes(row["body"]).decode()
        await burst(pilot, "escape")
        assert screen_name(app) == "VoiceScreen"
        assert app.screen.query_one("#items").row_count == 1
        assert "待同步" in str(app.screen.query_one("#items").get_row_at(0)[4])


async def test_no_letter_until_the_server_takes_the_kind(run, posted, shop_kiosk):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await write_letter(pilot, "想反映一下")
        assert posted == [] and screen_name(app) == "VoiceWriteScreen"
        assert "还不能接收" in message_text(app)
        assert shop_kiosk.store.unacked_event_count() == 0


async def test_the_resident_returns_with_the_code_reads_the_reply_and_rates_once(run, posted, accepting, server):
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await write_letter(pilot, "路灯坏了")
        await burst(pilot, "escape", "escape", "escape")
        assert accepting.sync().ok
        reply(server, CODE, "done", "已派电工修好", at=accepting.store.event_row("K0001-1")["at"])
        assert accepting.sync().ok
        while screen_name(app) != "FindScreen":
            await burst(pilot, "escape")
        await burst(pilot, *typed(CODE.replace("-", " ") + "\n"))  # read aloud, typed with spaces
        assert screen_name(app) == "VoiceScreen" and app.screen.card == CARD
        shown = str(app.screen.query_one("#reply").render())
        assert "已派电工修好" in shown and "已办结" in shown and "按 1 到 5" in shown
        await burst(pilot, *typed("5\n"))
        assert screen_name(app) == "ConfirmScreen"
        await burst(pilot, "enter")
        assert [m.kind for m in posted] == ["voice", "voice_rating"]
        assert app.screen.receipt.stars == 5 and app.screen.receipt.tracking == CODE
        await burst(pilot, "escape")
        assert screen_name(app) == "FindScreen"  # back where the resident came in
        await burst(pilot, *typed(CODE + "\n"))
        assert screen_name(app) == "VoiceScreen"
        assert "待同步" in str(app.screen.query_one("#reply").render())  # rated here, not yet on the server
        await burst(pilot, *typed("4\n"))  # refused before any confirm step
        assert len(posted) == 2 and "只能评价一次" in message_text(app)


async def test_a_card_scanned_into_the_stars_field_rates_nothing(run, posted, accepting, server):
    reply(server, CODE, "done", "已处理")
    assert accepting.sync().ok
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        await burst(pilot, *typed(CARD + "\n"), "f4")
        assert screen_name(app) == "VoiceScreen" and app.focused.id == "items"
        await burst(pilot, *typed(CARD2 + "\n"))  # a scan while the list has focus
        assert posted == [] and screen_name(app) == "VoiceScreen"
        assert CARD2 in message_text(app) and app.screen.query_one("#stars").value == ""


async def test_another_residents_code_and_a_mistyped_one(run, posted, accepting, server):
    other = tracking.tracking_code("K0002", 7)
    reply(server, other, "done", "已处理", card=CARD2)
    assert accepting.sync().ok
    app, ctx = run()
    async with ctx as pilot:
        await signed_in(pilot)
        wrong = other[:-1] + str((int(other[-1]) + 1) % 10)
        await burst(pilot, *typed(wrong + "\n"))
        assert screen_name(app) == "FindScreen" and "查询码无效" in message_text(app)
        await burst(pilot, *typed(tracking.tracking_code("K0009", 3) + "\n"))
        assert screen_name(app) == "FindScreen" and "查不到" in message_text(app)
        await burst(pilot, *typed(other + "\n"))
        assert screen_name(app) == "VoiceScreen" and app.screen.card == CARD2
    with pytest.raises(Exception, match="not this resident"):
        accepting.rate_voice(CARD, other, 5, "op1")
