"""The current server knows 书记信箱 and 村民说事 (event kinds ``voice``, ``voice_rating``, feed
kind ``voice_reply``); a kiosk of release 1 beside a current one at the same shop keeps
pulling and pushing: it skips the feed kind it never heard of and its own events apply."""

from server.services import voice
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from tests.compat.release1 import award_once
from tests.compat.v1.kiosk import V1Kiosk
from tests.conftest import T0, Clock
from tests.server.conftest import CARD_A
from tests.server.kiosk_double import KioskDouble


def test_a_release_1_kiosk_syncs_beside_letters_and_their_replies(app_server):
    server = app_server
    now = KioskDouble(server.client, 21, Clock())
    assert now.enroll(enroll_code(server.ctx, SYSTEM, "S01")["code"]).status_code == 200
    letter = now.voice(CARD_A)
    assert now.push(now.batch(letter)).status_code == 200
    voice.reply(server.ctx, SYSTEM, letter.code, "已修好")
    voice.done(server.ctx, SYSTEM, letter.code)

    old = V1Kiosk(server.client, 22, lambda: T0)
    old.enroll(enroll_code(server.ctx, SYSTEM, "S01")["code"])
    old.pull()
    assert "voice_reply" in old.skipped and not any(kind == "voice_reply" for kind, _ in old.mirror)
    before, points = award_once(old, CARD_A)
    old.pull()
    assert old.mirror[("balance", CARD_A)].points == before + points
    assert now.push(now.batch(now.rate(CARD_A, letter.code, 5))).status_code == 200
    assert voice.item(server.ctx, SYSTEM, letter.code)["stars"] == 5
