"""Recording: one immutable event per action, validated against the mirror, offline."""

import pytest

from kiosk import errors as E
from kiosk.pending import decode_event
from schema import kiosk_db
from schema.types import GENESIS
from schema.wire import Award
from sync import codec
from tests.kiosk.fakeserver import CARD, CARD2, RETIRED


def test_migrations_pending_helper():
    assert kiosk_db.pending(0) == kiosk_db.MIGRATIONS
    assert kiosk_db.pending(kiosk_db.SCHEMA_VERSION) == []
    assert [v for v, _ in kiosk_db.pending(1, [(3, "c"), (2, "b"), (1, "a")])] == [2, 3]


def test_database_is_wal_with_full_sync(kiosk):
    conn = kiosk.store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_award_records_offline_and_survives_reopen(kiosk, server, open_service, tmp_path):
    server.down = True
    first = kiosk.award(CARD, "V01", "op1", note="扫雪").id
    second = kiosk.award(CARD2, "R01", "op1").id
    assert (first, second) == ("K0001-1", "K0001-2")  # gap-free kseq, id = kiosk-kseq
    kiosk.close()
    reopened = open_service()
    row = reopened.store.event_row(first)
    ev = decode_event(row["body"])
    assert isinstance(ev, Award) and ev.points == 10 and ev.note == "扫雪" and ev.operator == "op1"
    assert reopened.balance(CARD).pending == 10
    assert reopened.status()["pending_events"] == 2
    assert server.pushes == []  # recording never touched the network


def test_recording_returns_what_its_receipt_shows(kiosk):
    """award, redeem, void and stock-in each return a frozen ``Recorded`` read inside the
    recording transaction: the stored event, the names and (receipt=True) the points before
    and after."""
    assert (kiosk.award(CARD, "R01", "op1").before, kiosk.void("K0001-1", "错", "op1").after) == (None, None)
    award = kiosk.award(CARD, "V01", "op1", note="扫雪", receipt=True)
    stored = decode_event(kiosk.store.event_row(award.id)["body"])
    assert award.event == stored and (award.kind, award.kiosk, award.resident) == ("award", "K0001", CARD)
    assert award.id == "K0001-3"
    assert (award.before, award.after) == (100, 110) == (100, kiosk.balance(CARD).available)
    assert award.resident_name == kiosk.resident(CARD)["name"] and award.names == {("rule", "V01"): "志愿服务"}
    redeem = kiosk.redeem(CARD, [("OIL", 1), ("RICE", 1)], "op1", receipt=True)
    assert (redeem.before, redeem.after) == (110, 30) and redeem.names == {("good", "OIL"): "食用油", ("good", "RICE"): "大米"}
    void = kiosk.void(redeem.id, "退货", "op1", receipt=True)
    assert (void.kind, void.resident, void.before, void.after, void.names) == ("void", CARD, 30, 110, {})
    delivery = kiosk.stock_in([("OIL", 3)], "op1", receipt=True)
    assert (delivery.resident, delivery.resident_name, delivery.before, delivery.after) == (None, None, None, None)
    with pytest.raises(AttributeError):
        delivery.after = 1  # frozen: what was recorded is not edited on its way to the receipt


def test_prohibited_rule_deducts_its_own_points(kiosk):
    kiosk.award(CARD, "P01", "op1")
    assert kiosk.balance(CARD).pending == -5


@pytest.mark.parametrize(
    ("args", "error", "field"),
    [
        (("9999999999", "V01", "op1"), E.UnknownResident, {"card": "9999999999"}),
        ((RETIRED, "V01", "op1"), E.ResidentRetired, {"card": RETIRED}),
        ((CARD, "NOPE", "op1"), E.UnknownRule, {"rule": "NOPE"}),
        ((CARD, "OLD", "op1"), E.RuleRetired, {"rule": "OLD"}),
        ((CARD, "V01", "ghost"), E.UnknownOperator, {"operator": "ghost"}),
        ((CARD, "V01", "op9"), E.OperatorRetired, {"operator": "op9"}),
        (("no spaces!", "V01", "op1"), E.InvalidInput, {"what": "card"}),
    ],
)
def test_award_refusals_name_the_problem(kiosk, args, error, field):
    with pytest.raises(error) as info:
        kiosk.award(*args)
    assert field.items() <= info.value.fields.items()
    assert kiosk.store.unbatched_events() == []  # nothing half-recorded


@pytest.mark.parametrize("qty", [0, -1, 10_001, "x"])
def test_quantity_out_of_range_refused(kiosk, qty):
    with pytest.raises(E.InvalidInput):
        kiosk.redeem(CARD, [("TOWEL", qty)], "op1")
    with pytest.raises(E.InvalidInput):
        kiosk.stock_in([("TOWEL", qty)], "op1")


def test_unknown_sku_refused(kiosk):
    with pytest.raises(E.UnknownSku) as info:
        kiosk.stock_in([("NOPE", 1)], "op1")
    assert info.value.fields == {"sku": "NOPE"}


def test_stock_in_adds_pending_stock(kiosk):
    kiosk.stock_in([("RICE", 4)], "op1")
    assert kiosk.stock_available()["RICE"] == 5


def test_void_reverses_and_only_once(kiosk):
    award = kiosk.award(CARD, "V01", "op1").id
    void = kiosk.void(award, "录错了", "op1").id
    assert kiosk.balance(CARD).pending == 0
    with pytest.raises(E.VoidRefused) as info:
        kiosk.void(award, "again", "op1")
    assert info.value.key == "void_repeated"
    with pytest.raises(E.VoidRefused) as info:
        kiosk.void(void, "void a void", "op1")
    assert info.value.key == "void_of_void"
    for foreign in ("K0002-1", "K0001-99", "C-1"):
        with pytest.raises(E.VoidRefused) as info:
            kiosk.void(foreign, "not ours", "op1")
        assert info.value.key == "void_unknown" and info.value.fields["event"] == foreign
    with pytest.raises(E.InvalidInput):
        kiosk.void(award, "   ", "op1")


def test_void_of_redeem_returns_points_and_stock(kiosk):
    redeem = kiosk.redeem(CARD, [("OIL", 2)], "op1").id
    assert kiosk.balance(CARD).available == 0 and kiosk.stock_available()["OIL"] == 8
    kiosk.void(redeem, "退货", "op1")
    assert kiosk.balance(CARD).available == 100 and kiosk.stock_available()["OIL"] == 10


def test_not_enrolled_refuses(open_service, tmp_path):
    svc = open_service(tmp_path / "fresh")
    with pytest.raises(E.NotEnrolled):
        svc.award(CARD, "V01", "op1")


def test_key_file_is_private(kiosk):
    path = kiosk.settings.key_path
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_text().strip()) == 64


def test_enrolling_twice_refused(kiosk):
    with pytest.raises(E.AlreadyEnrolled):
        kiosk.enroll("http://central.test", "ABCD-EFGH-JKLM")


def test_events_table_body_is_canonical_and_chained(kiosk):
    kiosk.award(CARD, "V01", "op1")
    kiosk.award(CARD, "R01", "op1")
    rows = kiosk.store.unbatched_events()
    prev = GENESIS
    for row in rows:
        ev = decode_event(row["body"])
        assert codec.encode(ev) == row["body"]
        assert row["chain"] == codec.chain_hash(prev, row["body"])
        prev = row["chain"]


def test_schema_too_new_is_refused(kiosk, open_service):
    kiosk.store.set_meta(schema_version=99)
    kiosk.close()
    with pytest.raises(E.SchemaTooNew, match="newer"):
        open_service()
