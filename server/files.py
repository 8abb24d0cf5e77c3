"""Private files of the server: its data folder and every folder under it 0700, databases,
backups, keys, logs and report files 0600, set when they are created (and put right on
open for a folder made before), so a copied disk's other users read none of it.
The entry point sets the process umask to 077 (``PRIVATE_UMASK``) as well, so a file some
library creates (a SQLite journal, a log) is never readable by others either."""

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (made, with its parents, if absent)."""
    path = Path(path)
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make the existing file ``path`` readable and writable by its owner only."""
    os.chmod(path, FILE_MODE)
    return Path(path)


def write_private_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, created 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return private_file(path)
