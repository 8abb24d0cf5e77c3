"""Business conflicts are applied and flagged, never rejected; voids reverse exactly."""

from server.services.review import list_items
from server.services.staff import SYSTEM
from server.store import ledger
from tests.server.conftest import CARD_A
from tests.server.helpers import points, reply_of


def stock(ctx, shop: str, sku: str) -> int:
    with ctx.store.read() as db:
        return ledger.stock_of(db, [(shop, sku)]).get((shop, sku), 0)


def kinds(ctx) -> list[str]:
    return [r["kind"] for r in list_items(ctx, SYSTEM)]


def test_overdraft_across_two_kiosks_is_applied_and_reviewed(enrolled, ctx):
    a, b = enrolled(1, "S01"), enrolled(2, "S02")
    a.push(a.batch(a.award(CARD_A, "FXJZ", 20)))
    have = points(ctx, CARD_A)
    # Both shops, offline, hand out goods worth everything the resident has.
    for k in (a, b):
        assert k.push(k.batch(k.redeem(CARD_A, ("SALT", have, 1)))).status_code == 200
    assert points(ctx, CARD_A) == -have
    overdrafts = [r for r in list_items(ctx, SYSTEM) if r["kind"] == "overdraft"]
    assert [(r["kiosk"], r["resident"], r["shop"]) for r in overdrafts] == [("K0002", CARD_A, "S02")]
    assert overdrafts[0]["detail"]["balance_after"] == -have


def test_stock_below_zero_is_applied_and_reviewed(kiosk, ctx):
    have = stock(ctx, "S01", "RICE10")
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "FXJZ", 20)))
    resp = kiosk.push(kiosk.batch(kiosk.redeem(CARD_A, ("RICE10", have + 2, 0))))
    assert resp.status_code == 200
    assert stock(ctx, "S01", "RICE10") == -2
    item = [r for r in list_items(ctx, SYSTEM) if r["kind"] == "stock_negative"][0]
    assert item["detail"] == {"shop": "S01", "sku": "RICE10", "qty_after": -2}
    assert "price_mismatch" in kinds(ctx)  # recorded at 0, the list price is 400


def test_void_reverses_postings_and_stock(kiosk, ctx):
    start_points, start_stock = points(ctx, CARD_A), stock(ctx, "S01", "SOAP")
    award = kiosk.award(CARD_A, "FXJZ", 20)
    redeem = kiosk.redeem(CARD_A, ("SOAP", 2, 30))
    kiosk.push(kiosk.batch(award, redeem))
    assert points(ctx, CARD_A) == start_points + 20 - 60
    assert stock(ctx, "S01", "SOAP") == start_stock - 2
    kiosk.push(kiosk.batch(kiosk.void(redeem.id)))
    assert points(ctx, CARD_A) == start_points + 20
    assert stock(ctx, "S01", "SOAP") == start_stock
    with ctx.store.read() as db:
        assert ledger.events_by_id(db, [redeem.id])[0]["voided_by"] == "K0001-3"


def test_void_of_unknown_event_is_applied_and_reviewed(kiosk, ctx):
    resp = kiosk.push(kiosk.batch(kiosk.void("K0001-77")))
    assert resp.status_code == 200
    assert "void_unknown_target" in kinds(ctx)


def test_second_void_of_the_same_event_reverses_nothing(kiosk, ctx):
    award = kiosk.award(CARD_A, "ZYFW", 10)
    kiosk.push(kiosk.batch(award))
    after_award = points(ctx, CARD_A)
    kiosk.push(kiosk.batch(kiosk.void(award.id), kiosk.void(award.id)))
    assert points(ctx, CARD_A) == after_award - 10
    assert "void_repeated" in kinds(ctx)


def test_daily_cap_is_flagged_not_refused(kiosk, ctx):
    before = points(ctx, CARD_A)
    kiosk.push(kiosk.batch(kiosk.award(CARD_A, "LJFL", 2), kiosk.award(CARD_A, "LJFL", 2)))
    assert points(ctx, CARD_A) == before + 4
    assert kinds(ctx) == ["cap_exceeded"]


def test_kiosk_clock_far_ahead_is_reviewed_once_a_day(kiosk, ctx, clock):
    server_now = clock.now
    clock.advance(3_600_000)  # the kiosk's events are an hour ahead of the server
    body = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    body2 = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    clock.now = server_now
    assert reply_of(kiosk.push(body), ctx)["status"] == "applied"
    kiosk.push(body2)
    assert kinds(ctx) == ["clock_skew"]
    assert list_items(ctx, SYSTEM)[0]["detail"]["skew_ms"] >= 3_600_000


def test_offline_events_from_days_ago_are_not_clock_skew(kiosk, ctx, clock):
    body = kiosk.batch(kiosk.award(CARD_A, "ZYFW", 10))
    clock.advance(3 * 86_400_000)
    kiosk.push(body)
    assert kinds(ctx) == []
