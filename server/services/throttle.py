"""Staff sign-in throttling: repeated wrong passwords lock a username, and one client
address, for a while.

Every failed sign-in is counted under ``user:<name>`` and ``ip:<address>``. Once a key
has ``max_failures`` failures inside ``window_ms`` it is locked for ``lockout_ms``: sign-ins
under it are refused with ``429 rate_limited`` (``detail.retry_after_ms``) *before* the
password is checked, so a guesser costs no scrypt work and learns nothing, even from the
right password. A success clears the username's count. The address limit is higher: many
staff may sign in from one office. Counts live in this process's memory (time from the
injected clock); a restart forgets them, and memory is bounded by pruning stale keys.
"""

import threading
from collections import deque

from server.errors import SignInLocked

#: beyond this many tracked keys, those with no recent failure are forgotten
MAX_TRACKED = 50_000


class SignInThrottle:
    def __init__(self, max_failures: int = 5, max_failures_per_ip: int = 30,
                 window_ms: int = 15 * 60_000, lockout_ms: int = 15 * 60_000):
        self.limits = {"user": max_failures, "ip": max_failures_per_ip}
        self.window_ms = window_ms
        self.lockout_ms = lockout_ms
        self._fails: dict[str, deque[int]] = {}
        self._locked: dict[str, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str, address: str | None) -> list[str]:
        return [f"user:{username[:64]}"] + ([f"ip:{address}"] if address else [])

    def check(self, keys: list[str], now: int) -> None:
        """Raise ``SignInLocked`` while any of ``keys`` is locked."""
        with self._lock:
            for key in keys:
                until = self._locked.get(key)
                if until is not None and until > now:
                    raise SignInLocked(key, until - now)

    def failed(self, keys: list[str], now: int) -> None:
        with self._lock:
            if len(self._fails) > MAX_TRACKED:
                self._prune(now)
            for key in keys:
                times = self._fails.setdefault(key, deque())
                times.append(now)
                while times and times[0] <= now - self.window_ms:
                    times.popleft()
                if len(times) >= self.limits[key.partition(":")[0]]:
                    self._locked[key] = now + self.lockout_ms
                    times.clear()

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(f"user:{username[:64]}", None)

    def _prune(self, now: int) -> None:
        for key in [k for k, t in self._fails.items() if not t or t[-1] <= now - self.window_ms]:
            del self._fails[key]
        for key in [k for k, until in self._locked.items() if until <= now]:
            del self._locked[key]
