"""Which key signs which batch: the pure rule behind rotation, push and audit."""

from hypothesis import given
from hypothesis import strategies as st

from sync.keys import key_for_seq, peek_seq, rotate_proof_message


@given(st.lists(st.integers(1, 50), min_size=1, max_size=8), st.integers(1, 60))
def test_key_for_seq_is_the_last_added_key_with_the_greatest_start_at_or_below_seq(starts, seq):
    starts = sorted(starts)  # keys are added with non-decreasing from_seq
    history = [(s, f"k{i}") for i, s in enumerate(starts)]
    eligible = [(s, i) for i, s in enumerate(starts) if s <= seq]
    expected = f"k{max(eligible)[1]}" if eligible else None
    assert key_for_seq(history, seq) == expected


def test_peek_seq_reads_only_the_seq():
    assert peek_seq(b'{"events":[{"seq":99}],"kiosk":"K0001","seq":7}') == 7
    assert peek_seq(b"not json") is None and peek_seq(b'{"seq":"x"}') is None


def test_the_rotation_proof_binds_kiosk_seq_and_key():
    assert rotate_proof_message("K0001", 12, "ab" * 32) == b"K0001\n12\n" + b"ab" * 32
