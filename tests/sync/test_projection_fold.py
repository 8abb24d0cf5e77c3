"""``sync.projection.rederive``: what audit re-derives from a batch's signed bytes, through
the projector's own fold."""

from schema.wire import Void
from sync.ledger import Posting, StockMove, Target
from sync.projection import rederive

CARD = "resident:5106810100001"
AWARD = Target("award", "K0001", ((CARD, 10), ("programme:issued", -10)), (), True)
REDEEM = Target("redeem", "K0001", ((CARD, -30), ("shop:S01", 30)), (("S01", "SOAP", -1),), True)


def void(n: int, target: str) -> Void:
    return Void(id=f"K0001-{n}", kseq=n, at=1_767_225_600_000 + n, operator="sup1", target=target, reason="录入错误")


def test_a_target_stored_as_voided_by_the_void_itself_is_undone_by_it():
    # the ledger marks a target voided once its void is projected; audit reads it back so
    events = [void(5, "K0001-1"), void(6, "K0001-2")]
    voided: set[str] = set()
    posts, moves = rederive(events, "K0001", "S01", {"K0001-1": AWARD, "K0001-2": REDEEM}, voided)
    assert posts == [Posting("K0001-5", CARD, -10), Posting("K0001-5", "programme:issued", 10),
                     Posting("K0001-6", CARD, 30), Posting("K0001-6", "shop:S01", -30)]
    assert moves == [StockMove("K0001-6", "S01", "SOAP", 1)]
    assert voided == {"K0001-1", "K0001-2"}


def test_a_target_an_earlier_void_undid_moves_nothing_again():
    assert rederive([void(7, "K0001-1")], "K0001", "S01", {"K0001-1": AWARD}, {"K0001-1"}) == ([], [])


def test_a_second_void_of_the_same_target_in_one_batch_moves_nothing():
    posts, _ = rederive([void(5, "K0001-1"), void(6, "K0001-1")], "K0001", "S01", {"K0001-1": AWARD}, set())
    assert [p.event for p in posts] == ["K0001-5", "K0001-5"]
