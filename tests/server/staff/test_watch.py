"""The tick raises review items for quarantined requests and for gaps held too long."""

from server.services.review import list_items
from sync import codec
from server.services.staff import SYSTEM
from server.services.watch import GAP_HELD_MS, raise_items
from tests.server.staff.conftest import SQ01_CARD


def kinds(ctx) -> list[str]:
    return [i["kind"] for i in list_items(ctx, SYSTEM, open_only=True)]


def test_quarantined_requests_are_reviewed_once(ctx, kiosk):
    from server.services.manage import revoke_kiosk

    revoke_kiosk(ctx, SYSTEM, kiosk.id)
    for _ in range(3):
        assert kiosk.push(kiosk.batch(kiosk.award(SQ01_CARD, "ZYFW", 10))).status_code == 403
    assert raise_items(ctx) == {"quarantined": 1, "gap_held": 0}
    assert raise_items(ctx) == {"quarantined": 0, "gap_held": 0}
    [item] = [i for i in list_items(ctx, SYSTEM, with_evidence=True) if i["kind"] == "quarantined"]
    assert item["detail"]["count"] == 3 and item["detail"]["code"] == "kiosk_revoked" and item["community"] == "SQ01"
    assert item["evidence"]["quarantine"]["code"] == "kiosk_revoked"


def test_requests_failing_their_signature_are_reviewed_by_count_and_hash(ctx, kiosk):
    body = kiosk.batch(kiosk.award(SQ01_CARD, "ZYFW", 10))
    for _ in range(3):
        assert kiosk.push(body, signature="00" * 64).status_code == 401
    assert raise_items(ctx) == {"quarantined": 1, "gap_held": 0}
    assert raise_items(ctx) == {"quarantined": 0, "gap_held": 0}
    assert kiosk.push(body, signature="00" * 64).status_code == 401
    assert raise_items(ctx) == {"quarantined": 1, "gap_held": 0}  # one more since: a new item counting it
    first, second = [i for i in list_items(ctx, SYSTEM, with_evidence=True) if i["kind"] == "quarantined"]
    assert (first["detail"]["stored"], first["detail"]["code"], first["detail"]["count"]) == (False, "bad_signature", 3)
    assert first["detail"]["last_hash"] == codec.digest(body) and first["community"] == "SQ01"
    assert (second["detail"]["count"], second["detail"]["total"]) == (1, 4)
    assert "quarantine" not in first["evidence"]  # nothing of the body was kept


def test_a_gap_held_too_long_is_reviewed_once_a_day(ctx, kiosk, clock):
    kiosk.batch(kiosk.award(SQ01_CARD, "ZYFW", 10))  # batch 1 is "lost"
    assert kiosk.push(kiosk.batch(kiosk.award(SQ01_CARD, "LLHZ", 5))).status_code == 202
    assert raise_items(ctx)["gap_held"] == 0
    clock.advance(GAP_HELD_MS)
    assert raise_items(ctx)["gap_held"] == 1
    assert raise_items(ctx)["gap_held"] == 0
    [item] = [i for i in list_items(ctx, SYSTEM) if i["kind"] == "gap_held"]
    assert (item["detail"]["missing_seq"], item["detail"]["held_from_seq"]) == (1, 2)
