"""Copying the server database out and back in with SQLite's online backup API.

``copy_out`` runs against a live database: the backup API copies every page in one step
under a read transaction, so the copy is one consistent moment even while the server
keeps writing (WAL lets it). ``copy_in`` replaces a *stopped* server's database: the old
file is first folded together with its WAL and kept beside the new one, then the stale
``-wal``/``-shm`` files are removed so they can never be replayed onto the restored file.
"""

import os
import sqlite3
from pathlib import Path

from server.store import catalog
from server.store.tx import Tx
from server.files import private_file


class BackupCorrupt(ValueError):
    """A backup file that is not an intact jifen server database."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"{path}: {why}")
        self.path = path


class DatabaseInUse(RuntimeError):
    """Another process (a running server) has the database open: restore refuses, since
    that process would go on writing to the file it holds, not the restored one."""

    def __init__(self, path: Path):
        super().__init__(f"{path} is in use: stop the server before restoring")
        self.path = path


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, timeout=30)


def copy_out(db_path: Path, dest: Path) -> int:
    """Write a consistent copy of ``db_path`` to ``dest`` (a new file); returns its size."""
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src, dst = _connect(db_path), _connect(tmp)
    private_file(tmp)
    try:
        src.backup(dst)  # pages=-1: the whole database in one step, one read snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()
    check(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return dest.stat().st_size


def check(path: Path) -> dict[str, str]:
    """Integrity-check a database file and return its ``meta`` table."""
    if not Path(path).is_file():
        raise BackupCorrupt(path, "no such file")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupCorrupt(path, f"not a server database ({exc})") from None
    if result != "ok":
        raise BackupCorrupt(path, f"integrity check: {result}")
    return meta


def copy_in(src: Path, db_path: Path, keep_as: Path) -> None:
    """Replace the (stopped) database at ``db_path`` with a copy of ``src``; the old one
    is kept, WAL folded in, at ``keep_as``."""
    db_path = Path(db_path)
    if db_path.exists():
        old = sqlite3.connect(db_path, isolation_level=None, timeout=0.5)
        try:
            # No other connection may be open: an exclusive lock proves it, and the WAL is
            # folded into the file that is kept.
            old.execute("PRAGMA locking_mode=EXCLUSIVE")
            try:
                old.execute("BEGIN EXCLUSIVE")
            except sqlite3.OperationalError:
                raise DatabaseInUse(db_path) from None
            old.execute("COMMIT")
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            old.close()
    staged = db_path.with_name(db_path.name + ".restoring")
    staged.unlink(missing_ok=True)
    s, d = _connect(src), _connect(staged)
    try:
        s.backup(d)
        d.execute("PRAGMA journal_mode=WAL")
    finally:
        d.close()
        s.close()
    if db_path.exists():
        os.replace(db_path, keep_as)
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    os.replace(staged, db_path)
    for suffix in ("-wal", "-shm"):  # the staged copy's own, now misnamed
        Path(str(staged) + suffix).unlink(missing_ok=True)


def renumber_feed(db: Tx, above: int) -> int:
    """Move every feed row (in order) above ``above`` and point every stored batch's
    acknowledgement at the new high-water mark; returns the new high-water mark.

    After a restore, kiosks hold cursors the restored feed never reached: with every row
    above any cursor handed out before, each kiosk pulls the restored state whole again.
    """
    rows, left = db.sql.execute("SELECT (SELECT coalesce(min(seq), 1) FROM feed), (SELECT min(seq) FROM feed_left)").fetchone()
    low = rows if left is None or rows <= left else left
    shift = above - low + 1
    db.sql.execute("UPDATE feed SET seq = seq + ?", [shift])
    db.sql.execute("UPDATE feed_left SET seq = seq + ?", [shift])  # deletion rows keep their place among the rows
    high = max(catalog.feed_high_water(db), above)
    db.sql.execute("UPDATE batches SET feed = ? WHERE feed IS NOT NULL", [high])
    return high


def feed_high_water_of(path: Path) -> int:
    """The feed high-water mark of a database file (0 when it has none)."""
    if not Path(path).exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT coalesce(max(seq), 0) FROM feed").fetchone()[0]
    except sqlite3.DatabaseError:
        return 0
    finally:
        db.close()
