"""The public board's pure parts: how a resident's name is masked (the board and the
kiosk's receipts share it), how a board names a resident (masked, told apart by the
card's last four) and how residents are ranked."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.board import board_name, card_tail, mask_name, rank


@pytest.mark.parametrize(("name", "masked"), [
    ("张晓明", "张*明"), ("张伟", "张*"), ("李华", "李*"), ("欧阳娜娜", "欧**娜"), ("李", "李"), ("", ""),
    (" 张晓明 ", "张*明"),     # padding in the register changes nothing
    ("张　伟", "张*"),          # an ideographic space padding a two-character name never shows it whole
    ("Li Na", "L**a"),
])
def test_a_name_keeps_only_its_first_and_last_character(name, masked):
    assert mask_name(name) == masked


def test_ties_share_a_rank_and_are_listed_by_card():
    assert rank([("C3", 5), ("C1", 9), ("C2", 5), ("C4", 1)]) == [(1, "C1", 9), (2, "C2", 5), (2, "C3", 5), (4, "C4", 1)]


@pytest.mark.parametrize(("name", "card", "label"), [
    ("张晓明", "5106810100123", "张*明（…0123）"),
    ("张伟", "5106810100124", "张*（…0124）"),
    ("欧阳娜娜", "ABCD", "欧**娜（…ABCD）"),   # a card of four characters shows whole: it is its own tail
    ("李", "5106810200007", "李（…0007）"),
    ("张　伟", "5106810100125", "张*（…0125）"),  # the register's padding never shows the name whole here either
])
def test_a_board_names_a_resident_masked_and_by_the_cards_last_four(name, card, label):
    assert board_name(name, card) == label
    assert card_tail(card) == card[-4:]


def test_two_residents_sharing_a_masked_name_are_told_apart():
    a, b = board_name("张晓明", "5106810100123"), board_name("张小明", "5106810100456")
    assert mask_name("张晓明") == mask_name("张小明") and a != b


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
       st.from_regex(r"[0-9A-Za-z]{4,32}", fullmatch=True))
def test_a_board_line_pulled_from_the_feed_names_the_resident_as_the_register_does(name, card):
    """The feed carries names already masked; masking them again changes nothing, so the
    kiosk and the public page write the same label the console writes from the register."""
    assert mask_name(mask_name(name)) == mask_name(name)
    assert board_name(mask_name(name), card) == board_name(name, card)
    assert board_name(name, card).endswith(f"（…{card[-4:]}）")
