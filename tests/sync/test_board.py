"""The public board's pure parts: how a resident's name is masked (the board and the
kiosk's receipts share it) and how residents are ranked."""

import pytest

from sync.board import mask_name, rank


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
