"""Acknowledged is durable and counted once; confirmed is projected (docs/PROTOCOL.md § 4.8).

A kiosk against the real server in process, whose ledger follows the log only when the test
says so (``JIFEN_PROJECTION=separate``: a ``jifen-server project`` process would): until the
server's ``projected`` row covers a batch, the kiosk counts its events as pending on top of
the balance it pulled — acknowledged, not confirmed — and once it does, as confirmed."""

import pytest

from kiosk.service import sync_mark
from server.services import projector
from server.settings import Settings
from tests.conftest import InProcessServer


@pytest.fixture
def app_server(server_dir, clock):
    """The real app, acknowledging without projecting: the test projects."""
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock, projection="separate")).start()
    yield server
    server.stop()


def some_card(svc) -> str:
    return svc.store._one("SELECT card FROM residents WHERE status = 'active' ORDER BY card")["card"]


def test_an_acknowledged_batch_stays_pending_until_the_server_says_it_is_projected(app_server, inprocess_kiosk):
    k = inprocess_kiosk()
    card = some_card(k)
    before = k.balance(card)
    assert before.pending == 0
    k.award(card, "ZYFW", "op1")
    rule_points = k.balance(card).pending
    assert rule_points > 0

    result = k.sync()  # pushed and acknowledged; the pull after it moves past the acknowledgement's feed
    assert result.ok and result.pushed == 1
    entry = k.history(card)[0]
    assert entry["synced"] and not entry["confirmed"] and sync_mark(entry) == "acked_mark"
    assert k.status()["pending_events"] == 0 and k.status()["unconfirmed_events"] == 1
    held = k.balance(card)  # the server's balance does not hold it yet: still pending on top
    assert (held.confirmed, held.pending, held.available) == (before.confirmed, rule_points, before.confirmed + rule_points)

    assert projector.project_pending(app_server.ctx) == 1
    assert k.sync().ok
    entry = k.history(card)[0]
    assert entry["confirmed"] and sync_mark(entry) is None and k.status()["unconfirmed_events"] == 0
    done = k.balance(card)
    assert (done.confirmed, done.pending, done.available) == (before.confirmed + rule_points, 0, held.available)


def test_a_projected_row_pulled_before_the_acknowledgement_confirms_once_it_arrives(app_server, inprocess_kiosk, wire):
    """The reply is lost after the server acknowledged (and here projected) the batch: the
    pull brings the ``projected`` row first, and the resent batch's duplicate acknowledgement
    finds it confirmed."""
    k = inprocess_kiosk()
    card = some_card(k)
    before = k.balance(card)
    k.award(card, "ZYFW", "op1")
    wire.lose_replies = 1
    assert not k.sync().ok  # the push was handled; the kiosk heard nothing
    projector.project_pending(app_server.ctx)
    assert k.sync().ok  # resent (a duplicate), then pulled
    entry = k.history(card)[0]
    assert entry["synced"] and entry["confirmed"]
    after = k.balance(card)
    assert after.pending == 0 and after.confirmed == after.available > before.confirmed


def test_a_server_that_projects_before_replying_confirms_within_the_same_round(tmp_path, clock, server_dir):
    """The default (``inline``): one sync round leaves nothing unconfirmed."""
    server = InProcessServer(Settings(data_dir=server_dir, clock=clock)).start()
    try:
        from tests.conftest import AppTransport
        from kiosk.service import KioskService
        from kiosk.settings import Settings as KioskSettings
        from server.services.enroll import enroll_code
        from server.services.staff import SYSTEM

        k = KioskService(KioskSettings(data_dir=tmp_path / "inline", lang="en"), clock=clock, transport=AppTransport(server))
        k.enroll("http://central.test", enroll_code(server.ctx, SYSTEM, "S01")["code"])
        assert k.sync().ok
        card = some_card(k)
        k.award(card, "ZYFW", "op1")
        assert k.sync().ok
        assert k.history(card)[0]["confirmed"] and k.status()["unconfirmed_events"] == 0 and k.balance(card).pending == 0
        k.close()
    finally:
        server.stop()


def test_a_balance_says_how_far_the_residents_events_have_got(app_server, inprocess_kiosk):
    """``Balance.state`` from the outbox: 待同步 while one is not acknowledged, 已上传，待入账
    while all are acknowledged and one is not projected, 已确认 once every one is; the
    furthest behind wins, and another resident's events do not count."""
    k = inprocess_kiosk()
    card, other = [r["card"] for r in k.store._rows("SELECT card FROM residents WHERE status = 'active' ORDER BY card LIMIT 2")]
    bal = k.balance(card)
    assert (bal.state, bal.unsynced, bal.unconfirmed) == ("confirmed", 0, 0)

    k.award(card, "ZYFW", "op1")
    k.award(other, "ZYFW", "op1")
    bal = k.balance(card)
    assert (bal.state, bal.unsynced, bal.unconfirmed) == ("pending", 1, 0)

    assert k.sync().ok  # acknowledged, not projected
    bal = k.balance(card)
    assert (bal.state, bal.unsynced, bal.unconfirmed) == ("acked", 0, 1)

    k.award(card, "ZYFW", "op1")  # a new one not acknowledged: the balance is behind on it
    bal = k.balance(card)
    assert (bal.state, bal.unsynced, bal.unconfirmed) == ("pending", 1, 1)

    # the server unreachable: the sync builds and signs the batch, and cannot push it; an
    # event in a batch never acknowledged is as unsynced as one in no batch (seen at the
    # counter: it said 已上传，待入账 while offline)
    app_server.stop()
    assert not k.sync().ok
    assert k.store.unacked_batch_seqs()
    bal = k.balance(card)
    assert (bal.state, bal.unsynced, bal.unconfirmed) == ("pending", 1, 1)
    app_server.start()

    assert k.sync().ok
    assert (k.balance(card).state, k.balance(card).unconfirmed) == ("acked", 2)
    assert projector.project_pending(app_server.ctx) > 0
    assert k.sync().ok
    bal, there = k.balance(card), k.balance(other)
    assert (bal.state, bal.unsynced, bal.unconfirmed, bal.pending) == ("confirmed", 0, 0, 0)
    assert there.state == "confirmed"
