"""Copying a PostgreSQL server database out and back in with ``pg_dump`` / ``pg_restore``.

``copy_out`` runs against a live database: ``pg_dump`` reads every table in one REPEATABLE
READ snapshot, so the dump is one consistent moment while the server keeps writing. The
dump is PostgreSQL's custom archive format (``-Fc``: compressed, read by ``pg_restore``).

``copy_in`` replaces a *stopped* server's database: it refuses while any other jifen
process is connected (``application_name`` ``jifen-server``, as ``server.store.postgres``
names its connections), keeps the current contents as a dump beside the data folder's key,
then drops the ``public`` schema and restores the archive into it in ONE transaction
(``pg_restore`` writes the SQL, ``psql --single-transaction`` runs it), so a dump that fails
half-way leaves the database as it was.

The tools are found as ``tests/pgcluster.py`` finds ``initdb``: ``/usr/lib/postgresql/*/bin``
newest first, then PATH; ``settings.pg_bin`` (``JIFEN_PG_BIN``) names the one folder to use
instead. The DSN's password goes to the tools in a passfile (0600, removed after), never their command line.
"""

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.files import private_file
from server.store.backup import BackupCorrupt, DatabaseInUse

#: what a server process names its connections (``server.store.postgres``)
APPLICATION_NAME = "jifen-server"


class ToolMissing(RuntimeError):
    """``pg_dump``, ``pg_restore`` or ``psql`` is not installed where it is looked for."""

    def __init__(self, name: str, where: str):
        super().__init__(f"{name} not found ({where}): install PostgreSQL's client programs "
                         "(apt install postgresql-client-15) or set JIFEN_PG_BIN to the folder holding them")
        self.name = name


class ToolFailed(RuntimeError):
    """A PostgreSQL tool exited non-zero; its message is kept."""

    def __init__(self, name: str, code: int, stderr: str):
        super().__init__(f"{name} failed ({code}): {stderr.strip()[-2000:]}")


def _version(folder: str) -> tuple[int, ...]:
    return tuple(int(p) for p in Path(folder).parent.name.split(".") if p.isdigit())


def tool_dir(name: str, only: Path | None = None) -> Path | None:
    """The folder holding PostgreSQL's program ``name``: ``only`` if given (None when it is
    not there), else ``/usr/lib/postgresql/*/bin`` newest first, then PATH."""
    if only is not None:
        return Path(only) if (Path(only) / name).is_file() else None
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if (Path(folder) / name).exists():
            return Path(folder)
    found = shutil.which(name)
    return Path(found).parent if found else None


def _tool(name: str, only: Path | None) -> str:
    folder = tool_dir(name, only)
    if folder is None:
        raise ToolMissing(name, f"in {only}" if only is not None else "in /usr/lib/postgresql/*/bin or PATH")
    return str(folder / name)


@contextmanager
def _conninfo(dsn: str) -> Iterator[str]:
    """The DSN for a tool's command line: without its password, which goes into a passfile
    (0600, removed after) that the DSN names."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    parts = conninfo_to_dict(dsn)
    password = parts.pop("password", None)
    if password is None:
        yield make_conninfo(**parts)
        return
    with tempfile.TemporaryDirectory(prefix="jifen-pg-") as folder:
        passfile = Path(folder) / "pgpass"
        secret = str(password).replace("\\", "\\\\").replace(":", "\\:")
        passfile.write_text(f"*:*:*:*:{secret}\n")
        private_file(passfile)
        yield make_conninfo(**parts, passfile=str(passfile))


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, **kw)
    if done.returncode != 0:
        raise ToolFailed(Path(args[0]).name, done.returncode, done.stderr.decode(errors="replace"))
    return done


def copy_out(dsn: str, dest: Path, bindir: Path | None = None) -> int:
    """Dump the database at ``dsn`` to ``dest`` (a new file, custom format); its size."""
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    tmp.touch()
    private_file(tmp)
    try:
        with _conninfo(dsn) as conninfo:
            _run([_tool("pg_dump", bindir), "--format=custom", "--no-owner", "--no-privileges", "--file", str(tmp),
                  "--dbname", conninfo])
        check(tmp, bindir)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)
    return dest.stat().st_size


def check(path: Path, bindir: Path | None = None) -> dict[str, str]:
    """Read a dump's ``meta`` table (``pg_restore`` checks the archive on the way); a file
    that is not a ``pg_dump`` archive of a server database is ``BackupCorrupt``."""
    path = Path(path)
    if not path.is_file():
        raise BackupCorrupt(path, "no such file")
    done = subprocess.run([_tool("pg_restore", bindir), "--data-only", "--table=meta", "--file=-", str(path)],
                          capture_output=True)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise BackupCorrupt(path, f"not a pg_dump archive of a server database ({why[-1] if why else done.returncode})")
    meta, inside = {}, False
    for line in done.stdout.decode().splitlines():
        if line.startswith("COPY ") and " meta " in f"{line.split('(')[0]} ".replace("public.", " "):
            inside = True
        elif inside and line == "\\.":
            break
        elif inside:
            key, _, value = line.partition("\t")
            meta[key] = value
    if "schema_version" not in meta:
        raise BackupCorrupt(path, "not a server database (the archive has no meta table with a schema_version)")
    return meta


def in_use(conn) -> int:
    """Other jifen processes connected to this database (a running server, a CLI command)."""
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid != pg_backend_pid() AND application_name = %s", [APPLICATION_NAME]).fetchone()[0]


def copy_in(src: Path, dsn: str, keep_as: Path, bindir: Path | None = None) -> None:
    """Replace the contents of the (stopped) database at ``dsn`` with the dump ``src``; the
    current contents are first dumped to ``keep_as``."""
    import psycopg
    with psycopg.connect(dsn, autocommit=True, application_name="jifen-server restore") as conn:
        if in_use(conn):
            raise DatabaseInUse(Path(conninfo_name(dsn)))
    restore_sql, psql = _tool("pg_restore", bindir), _tool("psql", bindir)  # both there before anything changes
    copy_out(dsn, keep_as, bindir)
    script = _run([restore_sql, "--no-owner", "--no-privileges", "--file=-", str(src)]).stdout
    with _conninfo(dsn) as conninfo:
        _run([psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1", "--dbname", conninfo,
              "--command", "DROP SCHEMA IF EXISTS public CASCADE", "--command", "CREATE SCHEMA public", "--file=-"],
             input=script)


def conninfo_name(dsn: str) -> str:
    """The database a DSN names, for messages (no password)."""
    from psycopg.conninfo import conninfo_to_dict
    parts = conninfo_to_dict(dsn)
    return f"PostgreSQL database {parts.get('dbname', '?')} on {parts.get('host', 'localhost')}:{parts.get('port', 5432)}"


def feed_high_water_of(dsn: str) -> int:
    """The feed high-water mark of a database (0 when it has none)."""
    import psycopg
    with psycopg.connect(dsn, autocommit=True, application_name="jifen-server restore") as conn:
        if not conn.execute("SELECT to_regclass('public.feed') IS NOT NULL").fetchone()[0]:
            return 0
        return conn.execute("SELECT coalesce(max(seq), 0) FROM public.feed").fetchone()[0]
