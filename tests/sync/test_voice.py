"""The two kinds of residents' voice (书记信箱, 村民说事) and their tracking codes: a code is
derived from kiosk and seq and carries a check digit; a letter names its own code and a
listed category; a rating counts once, for a done item, by the item's own resident."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.types import GENESIS
from schema.wire import Voice, VoiceRating
from sync import tracking
from sync.batch import build_batch, event_id, parse_batch
from sync.kinds.voice import CATEGORIES, MAX_TEXT
from sync.ledger import OperatorInfo, View, plan_batch
from sync.postings import VoiceInfo
from sync.protocol import RequestRejected

T0 = 1_764_000_000_000
A, B = "5101810000001", "5101810000002"


def letter(k=1, kiosk="K0001", **kw):
    fields = dict(id=event_id(kiosk, k), kseq=k, at=T0, operator="op1", resident=A, channel="letter",
                  category="roads", text="村口的路灯坏了", code=tracking.tracking_code(kiosk, k))
    return Voice(**(fields | kw))


def rating(k, code, stars=5, card=A):
    return VoiceRating(id=event_id("K0002", k), kseq=k, at=T0, operator="op1", resident=card, code=code, stars=stars)


def view(**voices):
    return View(residents={A: "active", B: "active"}, operators={"op1": OperatorInfo("S01", "operator", "active")},
                voices=dict(voices))


# ------------------------------------------------------------ tracking codes


def test_a_tracking_code_names_its_kiosk_and_event_and_reads_back():
    assert tracking.tracking_code("K0007", 42) == "0007-0042-8"
    assert tracking.parse("0007-0042-8") == ("K0007", 42)
    assert tracking.of_event("K0007-42") == "0007-0042-8"
    assert tracking.tracking_code("K000000000123", 123456789) == "000000000123-123456789-" + tracking.check_digit("000000000123123456789")


def test_typed_forms_are_made_one():
    assert tracking.normalise(" ０００７－００４２－８\u3000") == "0007-0042-8"
    assert tracking.normalise("0007 0042 8") == "0007-0042-8"


@pytest.mark.parametrize("typed, why", [("0007-0042-3", "check"), ("0070-0042-8", "check"), ("00070042-8", "shape"),
                                        ("0007-00042-8", "shape"), ("abc", "shape"), ("0007-0000-0", "check")])
def test_a_mistyped_code_is_refused_saying_why(typed, why):
    with pytest.raises(tracking.InvalidTracking) as caught:
        tracking.normalise(typed)
    assert caught.value.why == why and typed in str(caught.value)


@given(st.integers(0, 10**8 - 1), st.integers(1, 10**9), st.data())
def test_every_single_wrong_digit_and_neighbour_swap_is_caught(kiosk_n, kseq, data):
    code = tracking.tracking_code(f"K{kiosk_n:08d}", kseq)
    assert tracking.parse(code) == (f"K{kiosk_n:08d}", kseq)
    positions = [i for i, c in enumerate(code) if c.isdigit()]
    i = data.draw(st.sampled_from(positions))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != code[i]]))
    with pytest.raises(tracking.InvalidTracking):
        tracking.normalise(code[:i] + wrong + code[i + 1:])
    j = positions.index(i)
    if j + 1 < len(positions) and code[positions[j + 1]] != code[i]:
        a, b = i, positions[j + 1]
        swapped = list(code)
        swapped[a], swapped[b] = swapped[b], swapped[a]
        with pytest.raises(tracking.InvalidTracking):
            tracking.normalise("".join(swapped))


# ------------------------------------------------------------ the voice kind


def test_a_letter_decodes_in_a_batch_and_posts_nothing():
    ev = letter()
    body = build_batch("K0001", 1, GENESIS, T0, [ev])
    assert parse_batch(body, "K0001").events == [ev]
    plan = plan_batch([ev], "K0001", "S01", view())
    assert plan.postings == [] and plan.stock_moves == [] and plan.reviews == []


@pytest.mark.parametrize("change, problem", [
    ({"code": tracking.tracking_code("K0001", 2)}, "is not the code of this event"),
    ({"category": "weather"}, "is not one of"),
    ({"text": "x\u202eoops"}, "bidirectional"),
    ({"text": " "}, "must not be empty"),
])
def test_a_letter_that_no_honest_kiosk_sends_is_refused(change, problem):
    body = build_batch("K0001", 1, GENESIS, T0, [letter(**change)])
    with pytest.raises(RequestRejected) as caught:
        parse_batch(body, "K0001")
    assert problem in str(caught.value)


def test_text_is_bounded_on_the_wire():
    body = build_batch("K0001", 1, GENESIS, T0, [letter(text="字" * (MAX_TEXT + 1))])
    with pytest.raises(RequestRejected):
        parse_batch(body, "K0001")


def test_the_category_list_lives_in_one_place():
    assert "other" in CATEGORIES and len(set(CATEGORIES)) == len(CATEGORIES)


def test_a_letter_of_a_resident_who_never_existed_is_refused():
    with pytest.raises(RequestRejected):
        plan_batch([letter(resident="5101810000099")], "K0001", "S01", view())


# ------------------------------------------------------------ ratings


CODE = tracking.tracking_code("K0001", 1)


def test_the_first_rating_of_a_done_item_by_its_resident_counts():
    plan = plan_batch([rating(1, CODE, 4)], "K0002", "S01", view(**{CODE: VoiceInfo(A, "done")}))
    assert plan.ratings == {CODE: ("K0002-1", 4)} and plan.reviews == [] and plan.postings == []


@pytest.mark.parametrize("item, card, reason", [
    (None, A, "unknown"), (VoiceInfo(B, "done"), A, "other_resident"), (VoiceInfo(A, "replied"), A, "not_done"),
    (VoiceInfo(A, "done", 5), A, "rated"),
])
def test_a_rating_that_cannot_count_is_applied_and_reviewed_never_refused(item, card, reason):
    voices = {CODE: item} if item else {}
    plan = plan_batch([rating(1, CODE, 2, card)], "K0002", "S01", view(**voices))
    assert plan.ratings == {}
    [review] = plan.reviews
    assert (review.kind, review.event, review.detail["reason"]) == ("voice_rating_refused", "K0002-1", reason)
    if reason == "rated":
        assert review.detail["counted"] == 5


def test_two_ratings_in_one_batch_count_once():
    plan = plan_batch([rating(1, CODE, 5), rating(2, CODE, 1)], "K0002", "S01", view(**{CODE: VoiceInfo(A, "done")}))
    assert plan.ratings == {CODE: ("K0002-1", 5)}
    assert [r.detail["reason"] for r in plan.reviews] == ["rated"]


def test_stars_are_one_to_five_on_the_wire():
    for stars in (0, 6):
        body = build_batch("K0002", 1, GENESIS, T0, [rating(1, CODE, stars)])
        with pytest.raises(RequestRejected):
            parse_batch(body, "K0002")
