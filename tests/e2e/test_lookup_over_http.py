"""Online lookup and history end to end over real HTTP against a real `jifen-server serve`
process: a kiosk at S01 (which serves SQ01) looks up a resident of SQ02 by card, serves
them offline, syncs, reads their whole history with the receipt it printed, and central
staff find each request in the audit log; with a lookup allowance of one a day, the second
lookup is refused in plain words until the next day."""

import os

import pytest

from kiosk import errors as E
from kiosk.i18n import t
from tests.server.conftest import CARD_B


def test_a_visitor_is_looked_up_served_offline_and_on_record(server, make_kiosk):
    kiosk = make_kiosk("k1")
    before = server.json("balance", CARD_B)["confirmed"]
    assert kiosk.resident(CARD_B) is None and kiosk.offered("lookup")
    assert kiosk.look_up(CARD_B)["community"] == "SQ02"

    server.stop()  # offline: the visitor is still served, with the points the server gave
    award = kiosk.award(CARD_B, "ZYFW", "op1")
    assert kiosk.balance(CARD_B).available == before + 10
    server.start()
    assert kiosk.sync().ok and server.json("balance", CARD_B)["confirmed"] == before + 10

    history = kiosk.whole_history(CARD_B)
    assert history.balance == before + 10 and history.opening + sum(e["points"] for e in history.entries) == history.balance
    assert history.entries[0]["receipt"] == award.id and history.entries[0]["kiosk"] == kiosk.kiosk_id
    log = server.json("staff", "log", "--staff", f"kiosk:{kiosk.kiosk_id}")
    assert [(r["action"], r["subject"]) for r in log] == [("kiosk_lookup", CARD_B), ("kiosk_history", CARD_B)]


def test_the_daily_allowance_is_a_server_setting(server, make_kiosk):
    kiosk = make_kiosk("k1")
    server.stop()
    server.start(env={**os.environ, "JIFEN_LOOKUPS_PER_DAY": "1"})
    kiosk.look_up(CARD_B)
    with pytest.raises(E.LookupAllowanceSpent) as refused:
        kiosk.look_up(CARD_B)
    assert refused.value.fields["allowance"] == 1
    assert "今天的在线查询次数（1 次）已用完" in t(refused.value.key, "zh", **refused.value.fields)
