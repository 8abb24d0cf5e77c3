"""Staff sign-in throttling: repeated wrong passwords lock one (username, client address)
pair, with a back-off, and many from one address lock the address; lockouts are listed for
admins.

Every failed sign-in is counted under its (username, address) pair and under its address.
A pair with ``max_failures`` failures inside ``window_ms`` is locked; so is an address with
``max_failures_per_ip`` (someone trying many usernames). Sign-ins under a lock are refused
with ``429 rate_limited`` (``detail.retry_after_ms``) *before* the password is checked, so a
guesser costs no scrypt work and learns nothing, even from the right password. The lock
lasts ``lockout_ms``, doubled for each earlier lock of the same pair or address within a
day (at most ``max_lockout_ms``). Locking per pair means nobody can lock an account out by
naming it: the right password from another address still works.

The failure counts live in this process's memory (time from the injected clock; bounded by
pruning stale keys); the lockouts themselves are rows of ``signin_lockouts``, so the CLI and
the API list the same ones (``server.services.staff.sign_in_lockouts``), and a restart
keeps them.
"""

import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.errors import SignInLocked
from server.store import staff as store

if TYPE_CHECKING:  # the context holds a SignInThrottle
    from server.services.context import Context

#: beyond this many tracked keys, those with no recent failure are forgotten
MAX_TRACKED = 50_000
BACKOFF_MEMORY_MS = 24 * 3_600_000


@dataclass
class SignInThrottle:
    """The failure counts (in memory) and the limits."""

    max_failures: int = 5
    max_failures_per_ip: int = 30
    window_ms: int = 15 * 60_000
    lockout_ms: int = 15 * 60_000
    max_lockout_ms: int = 24 * 3_600_000

    def __post_init__(self) -> None:
        self._fails: dict[tuple[str | None, str], deque[int]] = {}
        self._lock = threading.Lock()

    def count(self, key: tuple[str | None, str], now: int) -> int:
        """Count one failure under ``key``; how many are inside the window (0: a lock was due and the count restarts)."""
        with self._lock:
            if len(self._fails) > MAX_TRACKED:
                self._prune(now)
            times = self._fails.setdefault(key, deque())
            times.append(now)
            while times and times[0] <= now - self.window_ms:
                times.popleft()
            limit = self.max_failures if key[0] is not None else self.max_failures_per_ip
            if len(times) >= limit:
                times.clear()
                return 0
            return len(times)

    def clear(self, key: tuple[str | None, str]) -> None:
        with self._lock:
            self._fails.pop(key, None)

    def _prune(self, now: int) -> None:
        for key in [k for k, t in self._fails.items() if not t or t[-1] <= now - self.window_ms]:
            del self._fails[key]


def _keys(username: str, address: str | None) -> list[tuple[str | None, str]]:
    address = (address or "unknown")[:64]
    return [(username[:64], address), (None, address)]


def check(ctx: "Context", username: str, address: str | None) -> None:
    """Raise ``SignInLocked`` while the (username, address) pair or the address is locked."""
    now = ctx.now()
    with ctx.store.read() as db:
        for user, addr in _keys(username, address):
            until = store.lockout_until(db, user, addr, now)
            if until is not None:
                raise SignInLocked("user" if user is not None else "ip", until - now)


def failed(ctx: "Context", username: str, address: str | None) -> None:
    """Count a failed sign-in; lock what reached its limit, longer for each recent lock."""
    t, now = ctx.signins, ctx.now()
    due = [key for key in _keys(username, address) if t.count(key, now) == 0]
    if not due:
        return
    with ctx.store.write() as db:
        for user, addr in due:
            level = store.recent_lockout_level(db, user, addr, now - BACKOFF_MEMORY_MS) + 1
            until = now + min(t.lockout_ms * 2 ** (level - 1), t.max_lockout_ms)
            failures = t.max_failures if user is not None else t.max_failures_per_ip
            store.insert_lockout(db, user, addr, now, until, level, failures)


def succeeded(ctx: "Context", username: str, address: str | None) -> None:
    ctx.signins.clear(_keys(username, address)[0])


def lockouts(ctx: "Context", include_expired: bool = False) -> list[dict]:
    """Sign-in lockouts in force (or, ``include_expired``, of the last day), newest first:
    username (None for an address lock), address, since, until, back-off level."""
    now = ctx.now()
    with ctx.store.read() as db:
        return store.lockouts_since(db, now - BACKOFF_MEMORY_MS if include_expired else None, now)
