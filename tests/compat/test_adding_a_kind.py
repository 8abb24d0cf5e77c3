"""Adding an event kind, walked through (docs/ARCHITECTURE.md, "Adding an event kind"):
a throwaway kind registered here, in the test alone, is recorded on a kiosk, synced,
applied by the server and reported, with no other file knowing of it. And a kiosk that
knows a kind its server does not yet accept holds such events instead of wedging, and
sends them once the server (upgraded) says it accepts them."""

import pytest

from kiosk import shift
from kiosk.service import KioskService
from schema.types import Card, EventId, Millis, OperatorId, Points, Seq
from schema.wire import Wire
from server.services.reports import report
from server.services.staff import SYSTEM
from server.store import ledger
from sync import kinds
from sync.batch import event_id
from sync.calendar import local_month
from sync.kinds.base import screen_resident
from sync.postings import ISSUED, Posting, resident_account
from tests.conftest import T0


class Gift(Wire, tag="gift"):
    """Points given to a resident without a rule (the throwaway kind)."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    resident: Card
    points: Points


class GiftKind(kinds.Kind):
    tag, wire, origin = "gift", Gift, "kiosk"
    on_board = True

    def refs(self, ev, refs):
        refs.cards.add(ev.resident)

    def effects(self, ev, shop):
        return [Posting(ev.id, resident_account(ev.resident), ev.points), Posting(ev.id, ISSUED, -ev.points)], []

    def screen(self, ev, step):
        screen_resident(ev, step)

    def columns(self, ev):
        return kinds.Columns(operator=ev.operator, resident=ev.resident)

    def receipt(self, ev):
        return kinds.ReceiptPart()

    def shift(self, ev):
        return [kinds.ShiftLine("operator", "awarded", 0, ev.points)]

    def issued_flow(self, rule_kind):
        return "earned", False


@pytest.fixture
def gift():
    kinds.register(GiftKind())
    yield
    kinds.unregister("gift")


def _record_gift(svc: KioskService, points: int) -> tuple[str, str]:
    card = svc.store._one("SELECT card FROM residents WHERE status = 'active' ORDER BY card")["card"]
    op = svc.store._one("SELECT id FROM operators ORDER BY id")["id"]
    ev = svc.store.append_event(lambda kseq: Gift(id=event_id(svc.kiosk_id, kseq), kseq=kseq, at=T0, operator=op,
                                                  resident=card, points=points))
    return ev.id, card


def _server_event(server, event: str) -> dict | None:
    with server.ctx.store.read() as db:
        rows = ledger.events_by_id(db, [event])
    return {"kind": rows[0]["kind"], "resident": rows[0]["resident"]} if rows else None


def test_a_kind_registered_in_one_place_is_recorded_synced_applied_and_reported(gift, app_server, inprocess_kiosk):
    server, kiosk = app_server, inprocess_kiosk()
    # registered before the server started: it names the kind among those it accepts
    event, card = _record_gift(kiosk, 37)
    confirmed = kiosk.balance(card).confirmed
    assert kiosk.balance(card).pending == 37  # recorded: the kiosk's own view already counts it

    result = kiosk.sync()
    assert result.ok and result.held == 0
    assert _server_event(server, event) == {"kind": "gift", "resident": card}  # applied, under its columns
    assert kiosk.balance(card).confirmed == confirmed + 37  # the server's balance came back by pull

    month = local_month(T0)
    board = report(server.ctx, SYSTEM, "board", month)
    assert any(r["points"] >= 37 for r in board["rows"])
    issued = report(server.ctx, SYSTEM, "issued", month)
    assert any(r["flow"] == "earned" and r["rule"] is None and r["points"] == 37 for r in issued["rows"])
    rep = shift.report(kiosk, {}, T0)
    assert sum(t.awarded for t in rep.per_operator.values()) == 37


def test_a_kiosk_holds_a_kind_its_server_does_not_accept_and_sends_it_once_accepted(app_server, gift, inprocess_kiosk):
    # the server started before the kind existed: its accepts row does not name it
    server, kiosk = app_server, inprocess_kiosk()
    event, card = _record_gift(kiosk, 5)
    rule = next(r for r in kiosk.rules() if r["kind"] != "prohibited" and r["status"] == "active")
    award = kiosk.award(card, rule["code"], kiosk.store._one("SELECT id FROM operators ORDER BY id")["id"]).id

    result = kiosk.sync()
    assert result.ok and result.held == 2  # the gift, and the award after it (a chain has no gaps)
    assert _server_event(server, event) is None and _server_event(server, award) is None

    server.restart()  # upgraded: now it accepts gifts
    result = kiosk.sync()
    assert result.ok and result.held == 0
    assert _server_event(server, event)["kind"] == "gift"
    assert _server_event(server, award) is not None
