"""Redeeming: balance, stock, lease and the offline floor limit, and the
confirmed / pending / available arithmetic behind them."""

import pytest

from kiosk import errors as E
from schema.wire import Policy
from tests.conftest import DAY, HOUR, SECOND
from tests.kiosk.fakeserver import CARD, CARD2


def test_redeem_within_balance_and_stock(kiosk):
    event = kiosk.redeem(CARD, [("RICE", 1), ("TOWEL", 2), ("TOWEL", 1)], "op1", receipt=True)
    assert event.id == "K0001-1" and (event.before, event.after) == (100, 55)
    bal = kiosk.balance(CARD)
    assert (bal.confirmed, bal.pending, bal.available) == (100, -45, 55)
    assert kiosk.stock_available()["TOWEL"] == 997  # duplicate lines merged


def test_insufficient_balance_refused(kiosk):
    with pytest.raises(E.RedeemRefused) as info:
        kiosk.redeem(CARD2, [("TOWEL", 1)], "op1")
    assert info.value.key == "insufficient_balance"
    assert info.value.fields["available"] == 0 and info.value.fields["total"] == 5
    assert "Not enough points" in str(info.value)


def test_pending_award_can_be_spent(kiosk):
    kiosk.award(CARD2, "V01", "op1")
    kiosk.redeem(CARD2, [("TOWEL", 2)], "op1")
    assert kiosk.balance(CARD2).available == 0
    with pytest.raises(E.RedeemRefused):
        kiosk.redeem(CARD2, [("TOWEL", 1)], "op1")


def test_insufficient_stock_refused(kiosk):
    kiosk.redeem(CARD, [("RICE", 1)], "op1")  # the shop had one bag
    with pytest.raises(E.InsufficientStock) as info:
        kiosk.redeem(CARD, [("RICE", 1)], "op1")
    assert info.value.fields == {"sku": "RICE", "available": 0, "wanted": 1}


def test_expired_lease_stops_redemptions_not_awards(kiosk, clock):
    clock.advance(3 * DAY + SECOND)
    with pytest.raises(E.RedeemRefused) as info:
        kiosk.redeem(CARD, [("TOWEL", 1)], "op1")
    assert info.value.key == "lease_expired"
    kiosk.award(CARD, "R01", "op1")  # recording itself goes on


def test_winding_the_clock_back_does_not_stretch_the_lease(kiosk, clock):
    clock.advance(3 * DAY + SECOND)
    kiosk.award(CARD, "R01", "op1")  # the kiosk sees the late time once
    clock.advance(-2 * DAY)
    with pytest.raises(E.RedeemRefused) as info:
        kiosk.redeem(CARD, [("TOWEL", 1)], "op1")
    assert info.value.key == "lease_expired"


def test_sync_renews_the_lease(kiosk, clock):
    clock.advance(3 * DAY + SECOND)
    assert kiosk.sync().ok
    kiosk.redeem(CARD, [("TOWEL", 1)], "op1")


def test_offline_daily_cap(kiosk, server, clock):
    server.policy = Policy(lease_seconds=3 * 86_400, balance_max_age_seconds=3_600, offline_daily_cap=60)
    kiosk.award(CARD, "V01", "op1")
    assert kiosk.sync().ok
    # online and fresh: no cap
    kiosk.redeem(CARD, [("OIL", 1)], "op1")
    clock.advance(2 * HOUR)  # balances now older than an hour: offline mode
    kiosk.redeem(CARD, [("TOWEL", 2)], "op1")  # 50 + 10 = 60, at the cap
    with pytest.raises(E.RedeemRefused) as info:
        kiosk.redeem(CARD, [("TOWEL", 1)], "op1")
    assert info.value.key == "offline_cap"
    assert info.value.fields == {"card": CARD, "cap": 60, "used": 60, "total": 5}
    assert kiosk.status()["offline_mode"] is True


def test_unreachable_server_means_offline_mode(kiosk, server):
    server.policy = Policy(lease_seconds=86_400, balance_max_age_seconds=3_600, offline_daily_cap=40)
    assert kiosk.sync().ok
    kiosk.redeem(CARD, [("RICE", 1)], "op1")  # 30, online
    server.down = True
    result = kiosk.sync()
    assert not result.ok and result.problem == "offline"
    assert kiosk.status()["reachable"] is False
    with pytest.raises(E.RedeemRefused) as info:
        kiosk.redeem(CARD, [("TOWEL", 3)], "op1")  # 30 + 15 > 40
    assert info.value.key == "offline_cap"


def test_voided_redeem_does_not_count_toward_cap(kiosk, server, clock):
    server.policy = Policy(lease_seconds=86_400, balance_max_age_seconds=1, offline_daily_cap=50)
    assert kiosk.sync().ok
    clock.advance(5 * SECOND)
    first = kiosk.redeem(CARD, [("OIL", 1)], "op1").id
    kiosk.void(first, "退货", "op1")
    kiosk.redeem(CARD, [("OIL", 1)], "op1")


def test_pending_until_acked_and_pulled_past_feed(kiosk, server):
    kiosk.award(CARD, "V01", "op1")
    assert kiosk.balance(CARD) == kiosk.balance(CARD).__class__(CARD, 100, 10, 110, unsynced=1, unconfirmed=0)
    assert kiosk.balance(CARD).state == "pending"
    # acked but the pull has not reached the ack's feed position: still pending
    server.tamper_pages = True  # the push succeeds, then the pull is refused
    result = kiosk.sync()
    assert not result.ok and result.problem == "offline"
    bal = kiosk.balance(CARD)
    assert (bal.confirmed, bal.pending, bal.available, bal.state) == (100, 10, 110, "acked")
    assert kiosk.status()["pending_events"] == 0  # the server has it
    server.tamper_pages = False
    assert kiosk.sync().ok
    bal = kiosk.balance(CARD)
    assert (bal.confirmed, bal.pending, bal.available, bal.state) == (110, 0, 110, "confirmed")


def test_revoked_kiosk_stops_redemptions_and_recording(kiosk, server):
    server.revoked = True
    result = kiosk.sync()  # the page says revoked
    assert not result.ok and result.problem == "kiosk_revoked"
    with pytest.raises(E.KioskRevoked):
        kiosk.redeem(CARD, [("TOWEL", 1)], "op1")
    with pytest.raises(E.KioskRevoked):
        kiosk.award(CARD, "R01", "op1")
    assert kiosk.status()["revoked"] is True
