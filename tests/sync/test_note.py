"""Checkpoint notes: the C2SP signed-note bytes, a signature that verifies iff nothing
changed, and strict parsing with errors that name the fault."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync import note
from sync.signing import SigningKey, VerifyKey

KEY = SigningKey(bytes(range(32)))
PUB = VerifyKey(KEY.public_hex)
ROOT = hashlib.sha256(b"root").digest()
NAME = "jifen.example/log"


def test_note_is_c2sp_text_and_plain_ed25519_verifies_it():
    text = note.sign(KEY, NAME, NAME, 5, ROOT)
    body, _, sigline = text.partition("\n\n")
    assert body + "\n" == f"{NAME}\n5\n{base64.b64encode(ROOT).decode()}\n"
    dash, name, sig64 = sigline.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", NAME)
    raw = base64.b64decode(sig64)
    assert raw[:4] == hashlib.sha256(NAME.encode() + b"\n\x01" + bytes.fromhex(KEY.public_hex)).digest()[:4]
    # a verifier that knows nothing of jifen's domain frame accepts it
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(KEY.public_hex)).verify(raw[4:], (body + "\n").encode())
    assert note.verify(text, NAME, PUB) == note.Checkpoint(NAME, 5, ROOT)


def test_any_change_is_refused():
    text = note.sign(KEY, NAME, NAME, 5, ROOT)
    for bad in (text.replace("\n5\n", "\n6\n"), text.replace(NAME + "\n", "other\n", 1)):
        with pytest.raises(note.BadNote, match="does not verify|no signature"):
            note.verify(bad, NAME, PUB)
    other = SigningKey(bytes(32))
    with pytest.raises(note.BadNote, match="no signature by"):
        note.verify(note.sign(other, NAME, NAME, 5, ROOT), NAME, PUB)


def test_other_signatures_are_ignored():
    text = note.sign(KEY, NAME, NAME, 5, ROOT)
    extra = note.sign(SigningKey(bytes(32)), "witness", NAME, 5, ROOT).partition("\n\n")[2]
    assert note.verify(text + extra, NAME, PUB).size == 5


@pytest.mark.parametrize(("text", "match"), [
    ("o\n5\nAAAA\n", "blank line"),
    ("o\n5\n\n— k AAAAAAAA\n", "3 lines"),
    ("o\n05\n" + base64.b64encode(ROOT).decode() + "\n\n— k AAAAAAAA\n", "leading zeros"),
    ("o\n5\nAAAA\n\n— k AAAAAAAA\n", "not 32"),
    ("o\n5\n" + base64.b64encode(ROOT).decode() + "\n\n- k AAAAAAAA\n", "not a signature line"),
    ("o\n5\n" + base64.b64encode(ROOT).decode() + "\n\n— k AA*A\n", "not base64"),
    ("o\n5\n" + base64.b64encode(ROOT).decode() + "\n\n— k AAAAAAAA", "ends with a newline"),
    ("o\t\n5\n" + base64.b64encode(ROOT).decode() + "\n\n— k AAAAAAAA\n", "control"),
    ("o\n5\n" + base64.b64encode(ROOT).decode() + "\n\n", "at least one signature"),
])
def test_malformed_notes_name_their_fault(text, match):
    with pytest.raises(note.BadNote, match=match):
        note.parse(text)


def test_a_note_body_cannot_pose_as_a_framed_signature():
    with pytest.raises(ValueError, match="jifen/v1/"):
        note.sign(KEY, NAME, "jifen/v1/batch", 1, ROOT)
    with pytest.raises(ValueError, match="jifen/v1/"):
        KEY.sign_note(b"jifen/v1/batch\x00{}")
