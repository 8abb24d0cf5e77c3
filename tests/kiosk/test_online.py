"""The kiosk's online lookup and history (kiosk.online) against the real server app in
process: a card of a community the kiosk does not mirror is looked up, kept as a visitor
and served offline afterwards with the balance the server gave; the whole history adds
up to the confirmed balance; a server that offers neither is never asked."""

import pytest

from kiosk import errors as E
from server.services.manage import get_resident, revoke_kiosk
from server.services.staff import SYSTEM
from tests.conftest import DAY
from tests.server.conftest import CARD_A, CARD_B


def server_points(app_server, card: str) -> int:
    return get_resident(app_server.ctx, SYSTEM, card)["confirmed"]


def test_a_card_not_mirrored_is_looked_up_and_served_offline_afterwards(inprocess_kiosk, app_server):
    svc = inprocess_kiosk()  # at S01, which serves SQ01; CARD_B lives in SQ02
    assert svc.resident(CARD_B) is None and svc.offered("lookup")
    before = server_points(app_server, CARD_B)
    row = svc.look_up(f" {CARD_B.lower()}\r\n")  # as a scanner or a full-width input method types it
    assert (row["card"], row["community"], row["visitor"]) == (CARD_B, "SQ02", 1) and row["name"]
    assert svc.balance(CARD_B).confirmed == before
    assert svc.find_resident(row["name"]) == []  # a visitor is found by exact card only, never by name

    app_server.stop()  # the network goes; the visitor stays served
    svc.award(CARD_B, "ZYFW", "op1")
    assert (svc.balance(CARD_B).confirmed, svc.balance(CARD_B).pending) == (before, 10)
    app_server.start()
    assert svc.sync().ok and server_points(app_server, CARD_B) == before + 10
    assert svc.balance(CARD_B).available == before + 10  # the visitor's balance predates the award: still pending
    history = svc.whole_history(CARD_B)  # a fresher balance, read after the award was applied
    assert history.balance == before + 10
    assert (svc.balance(CARD_B).confirmed, svc.balance(CARD_B).pending) == (before + 10, 0)


def test_the_whole_history_adds_up_to_the_confirmed_balance(inprocess_kiosk, app_server):
    other, svc = inprocess_kiosk("other", shop="S02"), inprocess_kiosk("k1")
    other.look_up(CARD_A)  # not mirrored at S02 either
    other.award(CARD_A, "ZYFW", "op2")  # at another shop
    assert other.sync().ok
    h = svc.whole_history(CARD_A)
    assert h.balance == server_points(app_server, CARD_A) and h.count == len(h.entries)
    assert h.opening + sum(e["points"] for e in h.entries) == h.balance
    newest = h.entries[0]
    assert (newest["shop"], newest["kiosk"], newest["points"]) == ("S02", other.kiosk_id, 10) and newest["receipt"]


def test_an_unknown_card_says_so(inprocess_kiosk):
    svc = inprocess_kiosk()
    with pytest.raises(E.UnknownResident):
        svc.look_up("9999999999999")
    with pytest.raises(E.BadCode):
        svc.look_up("张三")


def test_a_server_that_offers_no_lookup_is_never_asked(inprocess_kiosk, wire):
    svc = inprocess_kiosk()
    svc.store.set_meta(offered_requests=None)  # as after syncing with a server of the release before
    sent = len(wire.seen)
    for ask in (svc.look_up, svc.whole_history):
        with pytest.raises(E.NotOffered):
            ask(CARD_B)
    assert len(wire.seen) == sent and not svc.offered("lookup")


def test_offline_and_revoked(inprocess_kiosk, app_server):
    svc = inprocess_kiosk()
    app_server.stop()
    with pytest.raises(E.Offline):
        svc.look_up(CARD_B)
    app_server.start()
    revoke_kiosk(app_server.ctx, SYSTEM, svc.kiosk_id)
    with pytest.raises(E.KioskRevoked):
        svc.look_up(CARD_B)
    assert svc.status()["revoked"]


def test_a_visitor_not_looked_up_for_30_days_is_forgotten(inprocess_kiosk, clock):
    svc = inprocess_kiosk()
    svc.look_up(CARD_B)
    clock.advance(29 * DAY)
    assert svc.sync().ok and svc.resident(CARD_B) is not None
    clock.advance(2 * DAY)
    assert svc.sync().ok and svc.resident(CARD_B) is None  # a stolen kiosk holds few
