"""The one settings object of a server process: loaded at the entry point (``jifen-server``,
``Settings.from_env``: flags over environment over defaults), passed down. Nothing deeper
reads the environment.

The clock lives here too, so tests can fix time and every timestamp the server writes
comes from one place (integer UTC milliseconds).
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from schema.wire import Policy
from sync.policy import DEFAULT_POLICY
from sync.protocol import MAX_BODY_BYTES

DEFAULT_DATA = Path("jifen-data") / "server"


def system_clock() -> int:
    """Now, in integer UTC milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA
    # The database: a ``postgresql://`` URL (server.store.postgres); None: the embedded SQLite
    # file ``server.db`` in the data folder. The data folder keeps ``server.key`` either way.
    database: str | None = None
    # The folder holding pg_dump, pg_restore and psql (backup and restore on PostgreSQL);
    # None: /usr/lib/postgresql/*/bin newest first, then PATH (server.store.pg_backup).
    pg_bin: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8470
    # Offline-risk policy handed to every kiosk on every pull.
    lease_seconds: int = DEFAULT_POLICY.lease_seconds
    balance_max_age_seconds: int = DEFAULT_POLICY.balance_max_age_seconds
    offline_daily_cap: int = DEFAULT_POLICY.offline_daily_cap
    enroll_code_ttl_seconds: int = 7 * 86_400
    # A kiosk clock further than this from ours is reported once a day for review.
    clock_skew_threshold_ms: int = 10 * 60_000
    max_body_bytes: int = MAX_BODY_BYTES
    # Per-kiosk token bucket on push, pull and rotate, spent once the signature verifies
    # (server.ratelimit); 0 turns it off.
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 300
    # Per-client-address token bucket spent by /v1 requests that fail before their signature
    # verifies; an address that spent it is refused before any signature work. 0 turns it off.
    unverified_per_second: float = 1.0
    unverified_burst: int = 30
    # Per-client-address token bucket of the public pages (server.public: boards, receipt
    # checks), spent by every request to them; 0 turns it off.
    public_per_second: float = 2.0
    public_burst: int = 60
    # Quarantine kept per kiosk (bodies that verified but were refused), in bytes with 512 per
    # row; beyond it only a count and the last hash are kept (server.services.push).
    quarantine_bytes_per_kiosk: int = 16 * 1024 * 1024
    # Batches a kiosk may have held ahead of its chain (a gap before them), in bytes; a push
    # that would hold more is refused (held_limit) until the gap is filled.
    held_bytes_per_kiosk: int = 32 * 1024 * 1024
    # Proxies whose X-Forwarded-For names the client address (uvicorn's forwarded_allow_ips);
    # None trusts no header: the address is the socket's peer.
    forwarded_allow_ips: str | None = None
    # Per kiosk and programme day (Asia/Shanghai): online lookups of a resident it does not
    # mirror (POST /v1/lookup) and history requests (POST /v1/history), each counted in the
    # audit log; a stolen kiosk learns at most this many residents a day.
    lookups_per_day: int = 200
    histories_per_day: int = 1000
    # The periodic chores (server.staff.tick) run this often; 0 turns them off.
    tick_seconds: float = 300.0
    # Digits a PIN set or reset from now on needs (4-8); PINs set before keep working until changed.
    pin_min_length: int = 6
    # The first admin's password on an empty staff table (else one is generated and shown once).
    admin_password: str | None = field(default=None, repr=False)
    # HTTPS: a PEM certificate (chain) and its private key, or neither.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # /metrics: readable with ``Authorization: Bearer <token>``; None: only from this machine.
    metrics_token: str | None = field(default=None, repr=False)
    # How the ledger follows the log of acknowledged batches (server.services.projector):
    # ``inline`` projects each batch before its reply; ``background`` acknowledges at once and
    # projects behind, in chunks of about ``projection_chunk_events`` events per transaction;
    # ``separate`` acknowledges at once and leaves the projection to a ``jifen-server project``
    # process (which looks for new batches every ``projection_poll_seconds``).
    projection: str = "inline"
    projection_chunk_events: int = 5000
    projection_poll_seconds: float = 0.2
    # Outside ``inline``: how long a staff action that reads the ledger (charge-shop, write-off:
    # the resident's balance) waits for the projection to reach the log as it was when the
    # action came; still behind, it is refused ``ledger_behind`` (server.services.central).
    projection_wait_seconds: float = 5.0
    # The writer connection's page cache, in MiB (SQLite cache_size): the hot pages of a
    # city's balances, counters and indexes.
    cache_mib: int = 256
    # Test only: the crash point (``<point>[:<n>]``, sync.crashpoint) jifen-server arms.
    crash_at: str | None = None
    clock: Callable[[], int] = field(default=system_clock, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **flags) -> "Settings":
        """Defaults, overridden by the variables of ``ENV`` that are set, overridden by
        ``flags`` (the command line)."""
        values = {name: parse(environ[var]) for name, (var, parse) in ENV.items() if environ.get(var)}
        return cls(**(values | flags))

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "server.db"

    @property
    def store_location(self) -> Path | str:
        """What ``server.store.open_store`` opens: the PostgreSQL URL, else ``db_path``."""
        return self.database or self.db_path

    @property
    def key_path(self) -> Path:
        return Path(self.data_dir) / "server.key"

    @property
    def admin_password_path(self) -> Path:
        """Where a generated ``admin`` password is kept (0600), so it is never lost."""
        return Path(self.data_dir) / "admin-password.txt"

    def policy(self) -> Policy:
        return Policy(
            lease_seconds=self.lease_seconds,
            balance_max_age_seconds=self.balance_max_age_seconds,
            offline_daily_cap=self.offline_daily_cap,
        )


PROJECTION_MODES = ("inline", "background", "separate")


def projection_mode(value: str) -> str:
    """``inline``, ``background`` or ``separate``; anything else is refused by name."""
    if value not in PROJECTION_MODES:
        raise ValueError(f"JIFEN_PROJECTION must be one of {', '.join(PROJECTION_MODES)}, not {value!r}")
    return value


#: field -> (environment variable, parser). README.md lists them.
ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "lease_seconds": ("JIFEN_LEASE_SECONDS", int),
    "balance_max_age_seconds": ("JIFEN_BALANCE_MAX_AGE_SECONDS", int),
    "offline_daily_cap": ("JIFEN_OFFLINE_DAILY_CAP", int),
    "rate_limit_per_second": ("JIFEN_RATE_LIMIT_PER_SECOND", float),
    "rate_limit_burst": ("JIFEN_RATE_LIMIT_BURST", int),
    "unverified_per_second": ("JIFEN_UNVERIFIED_PER_SECOND", float),
    "unverified_burst": ("JIFEN_UNVERIFIED_BURST", int),
    "public_per_second": ("JIFEN_PUBLIC_PER_SECOND", float),
    "public_burst": ("JIFEN_PUBLIC_BURST", int),
    "quarantine_bytes_per_kiosk": ("JIFEN_QUARANTINE_BYTES_PER_KIOSK", int),
    "held_bytes_per_kiosk": ("JIFEN_HELD_BYTES_PER_KIOSK", int),
    "forwarded_allow_ips": ("JIFEN_FORWARDED_ALLOW_IPS", str),
    "tick_seconds": ("JIFEN_TICK_SECONDS", float),
    "lookups_per_day": ("JIFEN_LOOKUPS_PER_DAY", int),
    "histories_per_day": ("JIFEN_HISTORIES_PER_DAY", int),
    "admin_password": ("JIFEN_ADMIN_PASSWORD", str),
    "pin_min_length": ("JIFEN_PIN_MIN_LENGTH", int),
    "metrics_token": ("JIFEN_METRICS_TOKEN", str),
    "crash_at": ("JIFEN_CRASH_AT", str),
    "projection": ("JIFEN_PROJECTION", projection_mode),
    "projection_chunk_events": ("JIFEN_PROJECTION_CHUNK_EVENTS", int),
    "projection_poll_seconds": ("JIFEN_PROJECTION_POLL_SECONDS", float),
    "projection_wait_seconds": ("JIFEN_PROJECTION_WAIT_SECONDS", float),
    "cache_mib": ("JIFEN_CACHE_MIB", int),
    "database": ("JIFEN_DATABASE", str),
    "pg_bin": ("JIFEN_PG_BIN", Path),
}
