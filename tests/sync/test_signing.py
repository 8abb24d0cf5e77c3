"""Ed25519 with domains: a signature verifies iff key, domain and bytes are unchanged."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.signing import BadKey, BadSignature, SigningKey, VerifyKey

KEY = SigningKey(bytes([7]) * 32)
OTHER = SigningKey(bytes([8]) * 32)


@given(st.binary(max_size=300))
def test_signature_verifies_over_same_bytes(msg):
    VerifyKey(KEY.public_hex).verify("batch", msg, KEY.sign("batch", msg))


@given(st.binary(min_size=1, max_size=300), st.data())
def test_any_changed_byte_fails(msg, data):
    sig = KEY.sign("batch", msg)
    i = data.draw(st.integers(0, len(msg) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = msg[:i] + bytes([msg[i] ^ flip]) + msg[i + 1 :]
    with pytest.raises(BadSignature):
        VerifyKey(KEY.public_hex).verify("batch", changed, sig)


def test_domain_separation():
    sig = KEY.sign("batch", b"hello")
    with pytest.raises(BadSignature):
        VerifyKey(KEY.public_hex).verify("pull", b"hello", sig)


def test_wrong_key_fails():
    with pytest.raises(BadSignature):
        VerifyKey(OTHER.public_hex).verify("batch", b"hello", KEY.sign("batch", b"hello"))


@pytest.mark.parametrize("sig", ["", "zz", "00" * 63, "00" * 65, None])
def test_malformed_signature_is_bad_signature(sig):
    with pytest.raises(BadSignature):
        VerifyKey(KEY.public_hex).verify("batch", b"x", sig)


@pytest.mark.parametrize("pub", ["", "00", "g" * 64, "00" * 33])
def test_malformed_key_is_bad_key(pub):
    with pytest.raises(BadKey):
        VerifyKey(pub)


def test_unknown_domain_refused():
    with pytest.raises(ValueError):
        KEY.sign("nonsense", b"x")  # type: ignore[arg-type]


def test_seed_round_trip_is_deterministic():
    assert SigningKey(KEY.seed()).public_hex == KEY.public_hex
    assert KEY.sign("batch", b"x") == SigningKey(bytes([7]) * 32).sign("batch", b"x")
