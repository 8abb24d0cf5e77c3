"""The kiosk's private key: made here from ``os.urandom``, written once with mode 0600,
and never sent anywhere (only its public half and signatures leave the kiosk)."""

import os
from pathlib import Path

from kiosk.errors import KeyMissing
from sync.signing import BadKey, SigningKey
from kiosk.files import private_folder


def load_or_create_pepper(path: Path) -> bytes:
    """The kiosk's PIN pepper in ``path`` (32 random bytes, hex); made 0600 when absent."""
    path = Path(path)
    if not path.exists():
        private_folder(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
                f.flush()
                os.fsync(f.fileno())
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def create_key(path: Path, seed: bytes | None = None) -> SigningKey:
    """Write a new key to ``path`` atomically, readable by the owner only.

    The file is written under a temporary name created 0600 and then renamed, so a crash
    leaves either no key or a whole key, and there is no moment where it is world-readable.
    ``seed`` is for tests; production passes none.
    """
    key = SigningKey(seed if seed is not None else os.urandom(32))
    private_folder(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key.seed().hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return key


def promote_key(src: Path, dst: Path) -> None:
    """Make the key file ``src`` the key at ``dst`` in one atomic, durable rename."""
    os.replace(src, dst)
    _fsync_dir(dst.parent)


def load_key(path: Path) -> SigningKey:
    try:
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        raise KeyMissing(path=str(path)) from None
    try:
        return SigningKey(bytes.fromhex(text))
    except ValueError:
        raise BadKey(f"{path} does not hold a 32-byte hex seed") from None


def _fsync_dir(directory: Path) -> None:
    # the rename is durable only once the directory entry is
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
