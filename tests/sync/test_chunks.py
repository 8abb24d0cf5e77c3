"""Cutting lists into bounded pieces (``IN`` lookups, batches) and their placeholders."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.chunks import chunks, marks


@given(st.lists(st.integers(), max_size=60), st.integers(1, 25))
def test_pieces_are_bounded_consecutive_and_cover_the_list(items, size):
    pieces = list(chunks(items, size))
    assert [x for p in pieces for x in p] == items
    assert all(1 <= len(p) <= size for p in pieces) and all(len(p) == size for p in pieces[:-1])


def test_an_empty_list_has_no_pieces_and_a_size_below_one_is_refused():
    assert list(chunks([], 3)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1], 0))


def test_marks_has_one_placeholder_per_parameter():
    assert (marks(1), marks(3)) == ("?", "?,?,?")
