"""sync.receipt: a payload round-trips, every altered field is refused with the code that
names it, key windows follow rotations, and the keys file verifies only as signed."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.wire import Award, KioskKeys, PublishedKeys
from sync import codec
from sync import receipt as R
from sync.protocol import ReceiptRefused
from sync.signing import SigningKey

OLD, NEW, SERVER = SigningKey(bytes([1]) * 32), SigningKey(bytes([3]) * 32), SigningKey(bytes([2]) * 32)
T = 1764039600000


def event(kseq=1, points=2, kiosk="K0001"):
    return codec.encode(Award(id=f"{kiosk}-{kseq}", kseq=kseq, at=T, operator="op1", resident="5101810000001",
                              rule="R01", points=points, note="垃圾分类"))


def published(fence=None) -> PublishedKeys:
    windows = R.key_windows([(1, OLD.public_hex), (5, NEW.public_hex)], fence)
    body = R.keys_body(SERVER.public_hex, T, [KioskKeys(kiosk="K0001", shop="S01", status="active", keys=windows)])
    return R.read_keys_file(R.keys_file(body, SERVER.sign("keys", body)), SERVER.public_hex)


def refused(text, keys=None) -> str:
    with pytest.raises(ReceiptRefused) as exc:
        R.verify(text, keys or published())
    return exc.value.code


@given(seq=st.integers(1, 4), kseq=st.integers(1, 10**6), points=st.integers(-100, 100))
def test_round_trip_through_the_link_in_any_case(seq, kseq, points):
    r = R.sign(OLD, "K0001", seq, event(kseq, points))
    text = R.link("https://jifen.example/check", R.encode(r))
    for form in (text, R.encode(r), R.encode(r).lower()):
        checked = R.verify(form, published())
        assert checked.receipt == r and checked.event.points == points and checked.public_key == OLD.public_hex


def test_each_altered_field_is_refused():
    r = R.sign(OLD, "K0001", 2, event())
    assert refused(R.encode(replace(r, event_bytes=event(points=20)))) == "receipt_signature"
    assert refused(R.encode(replace(r, seq=3))) == "receipt_signature"
    assert refused(R.encode(replace(r, signature="00" * 64))) == "receipt_signature"
    assert refused(R.encode(replace(r, kiosk="K0002"))) == "receipt_unknown_kiosk"
    assert refused(R.encode(r)[:-4]) == "receipt_encoding"
    assert refused("hello!") == "receipt_encoding"
    assert refused("https://x/check?q=1") == "receipt_encoding"


def test_a_key_is_valid_only_in_its_window():
    assert R.verify(R.encode(R.sign(OLD, "K0001", 5, event())), published()).public_key == OLD.public_hex  # just before the switch
    assert refused(R.encode(R.sign(OLD, "K0001", 6, event()))) == "receipt_key_window"
    assert R.verify(R.encode(R.sign(NEW, "K0001", 9, event())), published()).public_key == NEW.public_hex
    assert refused(R.encode(R.sign(NEW, "K0001", 9, event())), published(fence=8)) == "receipt_key_window"
    assert refused(R.encode(R.sign(OLD, "K0001", 2, event(kiosk="K0009")))) == "receipt_event"


def test_the_keys_file_verifies_only_as_signed():
    body = R.keys_body(SERVER.public_hex, T, [])
    good = R.keys_file(body, SERVER.sign("keys", body))
    assert R.read_keys_file(good).server_key == SERVER.public_hex
    for bad, pin in ((good.replace(b'"v":1', b'"v":1 '), None), (R.keys_file(body, OLD.sign("keys", body)), None),
                     (good, OLD.public_hex), (b"nonsense", None)):
        with pytest.raises(ReceiptRefused) as exc:
            R.read_keys_file(bad, pin)
        assert exc.value.code == "keys_file"
