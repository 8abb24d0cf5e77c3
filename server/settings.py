"""The one settings object of a server process: loaded at the entry point, passed down.

The clock lives here too, so tests can fix time and every timestamp the server writes
comes from one place (integer UTC milliseconds).
"""

import time
from collections.abc import Callable
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
    # Per-kiosk token bucket on push and pull (server.ratelimit); 0 turns it off.
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 300
    clock: Callable[[], int] = field(default=system_clock, compare=False)

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "server.db"

    @property
    def key_path(self) -> Path:
        return Path(self.data_dir) / "server.key"

    def policy(self) -> Policy:
        return Policy(
            lease_seconds=self.lease_seconds,
            balance_max_age_seconds=self.balance_max_age_seconds,
            offline_daily_cap=self.offline_daily_cap,
        )
