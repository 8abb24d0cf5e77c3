"""书记信箱 end to end over real HTTP against a real `jifen-server serve` process: a letter
recorded at a kiosk while the server is down gets its slip's tracking code offline, syncs
once the server is back, is handled by staff (the CLI's use cases: reply, mark done), its
reply is pulled by another kiosk of the community, where the resident rates it, and the
rating counts in the monthly voice report."""

from sync.calendar import local_month
from tests.server.conftest import CARD_A  # an SQ01 resident; S01 serves SQ01


def test_a_letter_written_offline_is_answered_rated_elsewhere_and_counted(server, make_kiosk):
    k1, k2 = make_kiosk("k1"), make_kiosk("k2")
    assert k1.recorder.accepts("voice") and k2.recorder.accepts("voice_rating")
    server.stop()
    rec = k1.voice(CARD_A, "letter", "roads", "村口路灯坏了三天，晚上看不见路", "op1", receipt=True)
    code = rec.event.code
    assert code.startswith(k1.kiosk_id[1:] + "-") and k1.voices(CARD_A)[0]["status"] == "pending"
    server.start()
    assert k1.sync().ok

    shown = server.json("voice", "show", code)
    assert shown["text"] == "村口路灯坏了三天，晚上看不见路" and shown["status"] == "open"
    server.cli("voice", "reply", code, "--text", "已安排电工，明天修好")
    server.cli("voice", "done", code)

    assert k2.sync().ok
    seen = next(i for i in k2.voices(CARD_A) if i["code"] == code)
    assert (seen["status"], seen["reply"], seen["may_rate"]) == ("done", "已安排电工，明天修好", True)
    k2.rate_voice(CARD_A, code, 5, "op1")
    assert k2.rating_refusal(CARD_A, code) == "rated"  # once, even before it syncs
    assert k2.sync().ok and k1.sync().ok
    assert next(i for i in k1.voices(CARD_A) if i["code"] == code)["stars"] == 5

    month = local_month(rec.event.at)
    rep = server.json("report", "voice", "--month", month, "--community", "SQ01")
    row = next(r for r in rep["rows"] if r["channel"] == "letter")
    assert row["received"] >= 1 and row["handled"] >= 1 and row["rated_4_5"] >= 1
    assert [s["step"] for s in server.json("voice", "show", code)["steps"]] == ["received", "replied", "done", "rated"]
