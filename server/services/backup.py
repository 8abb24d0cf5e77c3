"""Backup and restore of the server's data (``jifen-server backup FILE`` / ``restore FILE``).

A backup is one consistent copy of the database made while the server runs: of ``server.db``
with SQLite's online backup API (``server.store.backup``), or on PostgreSQL a ``pg_dump``
archive (``server.store.pg_backup``), which ``restore`` puts back with ``pg_restore``.
``server.key`` is not in it: keep a copy of that file once, apart.

Restoring an older backup puts the server behind its kiosks in two ways, and both are
repaired here so that nothing is lost once every kiosk has synced again:

* kiosks hold batches the restored server never saw. For each enrolled kiosk a ``chain``
  feed row says where the server now stands; a kiosk that had batches acknowledged at or
  past that point marks them unacknowledged and sends them again, byte for byte, from its
  outbox (a kiosk that pushes anything new is also answered ``held`` with ``next_seq``).
* kiosks hold pull cursors past the restored feed. Every feed row is moved above any
  sequence number handed out before (above the old database's high-water mark and above
  now × 1000), so each kiosk pulls the restored state whole again.
"""

from pathlib import Path

from schema.wire import ChainRec
from server.keys import load_or_create_key
from server.errors import ServerKeyChanged
from server.services import feed
from server.services.context import open_context
from server.settings import Settings
from server.store import catalog, chain
from server.store import backup as files
from server.store import pg_backup as pg


def backup(settings: Settings, dest: Path) -> dict:
    dest = Path(dest)
    if settings.database:
        size = pg.copy_out(settings.database, dest, settings.pg_bin)
        meta = pg.check(dest, settings.pg_bin)
    else:
        size = files.copy_out(settings.db_path, dest)
        meta = files.check(dest)
    return {"file": str(dest), "bytes": size, "schema_version": int(meta.get("schema_version", 0))}


def restore(settings: Settings, src: Path) -> dict:
    """Replace the data of a STOPPED server with the backup ``src``."""
    src = Path(src)
    meta = pg.check(src, settings.pg_bin) if settings.database else files.check(src)
    if not settings.key_path.exists():  # never make a new key here: it could sign nothing old
        raise files.BackupCorrupt(settings.key_path, "server.key is missing: put the server's key file back before restoring")
    key = load_or_create_key(settings.key_path)
    stored = meta.get("server_public_key")
    if stored is not None and stored != key.public_hex:
        raise ServerKeyChanged(stored, key.public_hex)
    now = settings.clock()
    if settings.database:
        before = max(pg.feed_high_water_of(settings.database), now * 1000)
        keep_as = settings.data_dir / f"database.before-restore-{now}.dump"
        pg.copy_in(src, settings.database, keep_as, settings.pg_bin)
        before = max(before, pg.feed_high_water_of(settings.database))
    else:
        before = max(files.feed_high_water_of(settings.db_path), files.feed_high_water_of(src), now * 1000)
        keep_as = settings.db_path.with_name(f"server.db.before-restore-{now}")
        files.copy_in(src, settings.db_path, keep_as)
    ctx = open_context(settings)  # migrates a backup from an older release
    try:
        with ctx.store.write() as db:
            files.renumber_feed(db, before)
            kiosks = chain.list_kiosks(db)
            for k in kiosks:
                rec = ChainRec(kiosk=k["id"], next_seq=k["next_seq"])
                feed.publish(db, "chain", rec, shop=k["shop"])
            high = catalog.feed_high_water(db)
    finally:
        ctx.close()
    return {"restored": str(src), "kiosks": len(kiosks), "feed": high,
            "previous": str(keep_as) if keep_as.exists() else None}
