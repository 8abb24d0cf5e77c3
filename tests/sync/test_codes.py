"""sync.codes: every way a person or scanner types a code gives the one stored form."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.codes import KINDS, InvalidCode, clean, normalise, normalise_or_keep

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def full_width(text: str) -> str:
    return "".join(FULL_WIDTH.get(ch, ch) for ch in text)


@pytest.mark.parametrize(("kind", "typed", "stored"), [
    ("card", "５１０１８１００００００１", "5101810000001"),
    ("card", "\u30005101810000001\r\n", "5101810000001"),
    ("card", "\t5101810000001\t", "5101810000001"),
    ("sku", "ｏｉｌ", "OIL"),
    ("sku", " soap\n", "SOAP"),
    ("rule", "ｖ０１", "V01"),
    ("operator", "ＯＰ１", "op1"),
    ("operator", "SUP1\r", "sup1"),
    ("enrol", "abcd-efgh-jkmn", "ABCD-EFGH-JKMN"),
    ("enrol", "ＡＢＣＤＥＦＧＨＪＫＭＮ", "ABCD-EFGH-JKMN"),
    ("kiosk", " k0001\n", "K0001"),
    ("kiosk", "Ｋ００１２", "K0012"),
])
def test_typed_forms_give_the_stored_form(kind, typed, stored):
    assert normalise(kind, typed) == stored


@pytest.mark.parametrize(("kind", "typed"), [
    ("card", "12"), ("card", "5101 8100"), ("card", "张三"), ("sku", ""), ("sku", "-OIL"),
    ("rule", "V 01"), ("operator", "op1!"), ("enrol", "ABCD-EFGH"), ("card", "\u3000"), ("kiosk", "K01"), ("kiosk", "C"),
])
def test_invalid_after_normalising_says_what_a_valid_one_looks_like(kind, typed):
    with pytest.raises(InvalidCode) as caught:
        normalise(kind, typed)
    assert caught.value.kind == kind and caught.value.example == KINDS[kind].example
    assert KINDS[kind].shape in str(caught.value)
    normalise(kind, caught.value.example)  # the example given is itself valid


@given(st.sampled_from(sorted(KINDS)), st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZabcxyz0123456789-_.", max_size=16),
       st.sampled_from(["", " ", "\t", "\u3000", "\r\n", "\n"]), st.booleans())
def test_normalising_is_idempotent_and_ignores_width_and_padding(kind, text, pad, wide):
    try:
        stored = normalise(kind, text)
    except InvalidCode:
        with pytest.raises(InvalidCode):
            normalise(kind, pad + (full_width(text) if wide else text) + pad)
        return
    assert normalise(kind, stored) == stored
    assert normalise(kind, pad + (full_width(text) if wide else text) + pad) == stored
    assert normalise(kind, stored.swapcase()) == stored


def test_clean_keeps_inner_text():
    assert clean("\u3000张 三\r\n") == "张 三"


def test_normalise_or_keep_leaves_what_is_no_code_for_the_caller_to_refuse():
    assert normalise_or_keep("sku", "\u3000ｏｉｌ") == "OIL"
    assert normalise_or_keep("sku", "BAD!") == "BAD!"
    assert normalise_or_keep("kiosk", None) == ""
