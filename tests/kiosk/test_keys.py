"""The kiosk's key file: loaded once and kept while the file stays the same, read again
as soon as it is replaced, refused when it is gone or garbled."""

import os

import pytest

from kiosk.errors import KeyMissing
from kiosk.keys import create_key, load_key, promote_key
from sync.signing import BadKey


def test_the_same_file_gives_the_key_it_holds_every_time(tmp_path):
    made = create_key(tmp_path / "kiosk.key", bytes(range(32)))
    first = load_key(tmp_path / "kiosk.key")
    assert first.public_hex == made.public_hex
    assert load_key(tmp_path / "kiosk.key") is first  # kept, not derived again


def test_a_key_written_over_the_file_is_read_again(tmp_path):
    path = tmp_path / "kiosk.key"
    create_key(path, bytes(32))
    old = load_key(path)
    new = create_key(path, bytes([7]) * 32)
    assert load_key(path).public_hex == new.public_hex != old.public_hex


def test_a_promoted_key_is_read_again(tmp_path):
    path, pending = tmp_path / "kiosk.key", tmp_path / "kiosk.key.new"
    create_key(path, bytes(32))
    load_key(path)
    new = create_key(pending, bytes([9]) * 32)
    promote_key(pending, path)
    assert load_key(path).public_hex == new.public_hex


def test_a_key_rewritten_in_place_is_read_again(tmp_path):
    path = tmp_path / "kiosk.key"
    create_key(path, bytes(32))
    load_key(path)
    path.write_text(bytes([5]).hex() * 32 + "\n", "ascii")  # same inode, same size
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a later write, however coarse the clock
    assert load_key(path).seed() == bytes([5]) * 32


def test_a_removed_or_garbled_key_is_refused_after_it_was_loaded(tmp_path):
    path = tmp_path / "kiosk.key"
    create_key(path, bytes(32))
    load_key(path)
    path.write_text("not a key\n", "ascii")
    with pytest.raises(BadKey):
        load_key(path)
    path.unlink()
    with pytest.raises(KeyMissing):
        load_key(path)
