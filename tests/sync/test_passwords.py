"""Staff passwords and operator PINs: one scrypt format, verified from the cost and salt it
carries, so hashes already stored in existing databases keep verifying."""

import pytest

from sync.passwords import PASSWORD_COST, PIN_COST, Cost, hash_password, hash_pin, hash_secret, verify

SALT = bytes(range(16))

#: Written by the code before sync.passwords existed (sync.pins.hash_pin and
#: server.services.staff.hash_password), as they sit in today's databases.
STORED_PIN = "scrypt$16384$8$1$000102030405060708090a0b0c0d0e0f$58dfbceef3ed18ee28d5fc04b6d96828d230b6a199aa7b1f91209634986ba4c8"
STORED_PASSWORD = "scrypt$32768$8$1$101112131415161718191a1b1c1d1e1f$f9312ef014d3879afc54346198a70d73881ca973ee38c7a2680776fa89f09a89"


def test_hashes_already_stored_keep_verifying():
    assert verify("1234", STORED_PIN) and not verify("1235", STORED_PIN)
    assert verify("correct horse", STORED_PASSWORD) and not verify("correct horsE", STORED_PASSWORD)


def test_hashing_again_writes_the_stored_format_byte_for_byte():
    assert hash_pin("1234", SALT) == STORED_PIN
    assert hash_password("correct horse", bytes(range(16, 32))) == STORED_PASSWORD


def test_a_hash_carries_its_cost_so_another_cost_still_verifies():
    cheap = hash_secret("9999", SALT, Cost(2**10, 8, 1))
    assert cheap.startswith("scrypt$1024$8$1$") and verify("9999", cheap) and not verify("9998", cheap)
    assert PIN_COST.n < PASSWORD_COST.n


def test_the_salt_changes_the_hash():
    assert hash_pin("1234", SALT) != hash_pin("1234", bytes(16))


@pytest.mark.parametrize("stored", ["", "1234", "bcrypt$16384$8$1$00$00", "scrypt$16384$8$1$zz$00",
                                    "scrypt$x$8$1$00$00", "scrypt$16384$8$1$0001", STORED_PIN[:-2]])
def test_a_malformed_stored_hash_never_verifies(stored):
    assert not verify("1234", stored)


def test_a_stored_cost_beyond_the_memory_bound_is_refused_not_run():
    assert not verify("1234", STORED_PIN.replace("scrypt$16384$", "scrypt$1048576$"))


def test_a_peppered_hash_verifies_only_with_its_pepper():
    from sync.passwords import PEPPERED, hash_pin, pepper, verify

    plain = hash_pin("135790", b"s" * 16)
    peppered = pepper(plain, b"k" * 32)
    assert peppered.startswith(PEPPERED) and plain.split("$")[-1] not in peppered
    assert verify("135790", peppered, b"k" * 32)
    assert not verify("135790", peppered) and not verify("135790", peppered, b"x" * 32)
    assert not verify("000000", peppered, b"k" * 32)
    assert pepper(peppered, b"k" * 32) == peppered  # once is enough
    assert pepper("expired$K0001$1", b"k" * 32) == "expired$K0001$1"  # no PIN verifies it anyway
    assert verify("135790", plain, b"k" * 32)  # a hash mirrored before the pepper still verifies
