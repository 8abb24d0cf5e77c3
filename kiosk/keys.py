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


#: the keys loaded, by path: (the file's identity when read, the key). Making a key from its
#: seed costs ~0.2 ms (the public half is derived), paid by every sync round and recording.
_loaded: dict[str, tuple[tuple, SigningKey]] = {}


def load_key(path: Path) -> SigningKey:
    """The key in ``path``, read again whenever the file is another or was written since
    (its device, inode, size, modification and change times): a key is only ever written
    whole to a new file renamed over the old one (``create_key``, ``promote_key``)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise KeyMissing(path=str(path)) from None
    ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    held = _loaded.get(str(path))
    if held is not None and held[0] == ident:
        return held[1]
    try:
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        raise KeyMissing(path=str(path)) from None
    try:
        key = SigningKey(bytes.fromhex(text))
    except ValueError:
        raise BadKey(f"{path} does not hold a 32-byte hex seed") from None
    if len(_loaded) >= 16:  # a handful of paths in a kiosk; many only in a test run
        _loaded.clear()
    _loaded[str(path)] = (ident, key)
    return key


def _fsync_dir(directory: Path) -> None:
    # the rename is durable only once the directory entry is
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
