"""The server's Ed25519 signing key: loaded from, or created in, ``server.key`` (0600).

The key signs every response, pull page, lease and central batch; kiosks pin its public
half at enrolment. It never goes into the database, so a copied database cannot sign.
"""

import os
from pathlib import Path

from sync.signing import BadKey, SigningKey
from server.files import private_folder


class KeyFileCorrupt(ValueError):
    """``server.key`` exists but does not hold a 32-byte hex seed."""

    def __init__(self, path: Path):
        super().__init__(f"{path} does not hold a 32-byte hex Ed25519 seed")
        self.path = path


def load_or_create_key(path: Path) -> SigningKey:
    """The key in ``path``; a new random one, written 0600, when the file is absent."""
    path = Path(path)
    if path.exists():
        return _load(path)
    private_folder(path.parent)
    seed = os.urandom(32)
    # O_EXCL: two processes starting at once must not each write their own key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(path)
    with os.fdopen(fd, "w") as f:
        f.write(seed.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return SigningKey(seed)


def _load(path: Path) -> SigningKey:
    try:
        return SigningKey(bytes.fromhex(path.read_text().strip()))
    except (ValueError, BadKey):
        raise KeyFileCorrupt(path) from None
