"""The /v1 request allowances: a kiosk's, spent only once its signature verifies, and a
client address's, spent by every request that fails before that; and the public pages'
allowance per client address (``PageLimit``).

A kiosk id is guessable, so charging the id a request *claims* would let a stranger keep
the real kiosk from syncing. Instead every push, pull and rotate first passes ``screen``:
an address whose unverified allowance is spent is refused before any signature work or
database write. A request that then fails to authenticate (unknown kiosk, missing header,
bad signature, retired key) spends one of its address's tokens (``unverified``); one that
verifies spends one of its kiosk's (``verified``). A kiosk that is refused gets ``429
rate_limited`` with ``retry_after_ms`` and simply syncs later: nothing it recorded is at
risk. Buckets live in one process's memory; a restart refills them.

The public pages (``server.public``: boards, receipt checks) need no sign-in, so every
request to them spends one token of its client address before its handler runs; an
address that spent them is answered ``429`` with a page saying when to come back.
"""

import threading
import time
from collections.abc import Callable

from server.errors import PagesLimited
from sync.protocol import RequestRejected

#: beyond this many tracked keys, full buckets (idle kiosks, made-up ids, old addresses) are forgotten
MAX_TRACKED = 100_000


class RateLimiter:
    """One token bucket per key: ``burst`` tokens, refilled at ``per_second``; 0 turns it off."""

    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - at) * self.per_second)

    def _wait_ms(self, tokens: float) -> int:
        return max(1, int((1 - tokens) / self.per_second * 1000))

    def take(self, key: str) -> int:
        """Spend one token of ``key``; 0 when allowed, else milliseconds until one is back."""
        if self.per_second <= 0:
            return 0
        now = self.clock()
        with self._lock:
            tokens = self._tokens(key, now)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > MAX_TRACKED:
                    self._forget_full(now)
                return 0
            self._buckets[key] = (tokens, now)
            return self._wait_ms(tokens)

    def wait(self, key: str) -> int:
        """Like ``take`` but spends nothing: 0 while ``key`` has a token left."""
        if self.per_second <= 0:
            return 0
        with self._lock:
            tokens = self._tokens(key, self.clock())
        return 0 if tokens >= 1 else self._wait_ms(tokens)

    def _forget_full(self, now: float) -> None:
        full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.per_second >= self.burst]
        for k in full:
            del self._buckets[k]


class RequestLimits:
    """The two allowances every /v1 push, pull and rotate passes (see the module docstring)."""

    def __init__(self, per_second: float, burst: int, unverified_per_second: float, unverified_burst: int,
                 clock: Callable[[], float] = time.monotonic):
        self.kiosks = RateLimiter(per_second, burst, clock)
        self.addresses = RateLimiter(unverified_per_second, unverified_burst, clock)

    def set_clock(self, clock: Callable[[], float]) -> None:
        self.kiosks.clock = self.addresses.clock = clock

    def screen(self, address: str | None) -> None:
        """Before anything else: refuse an address that has spent its unverified allowance."""
        wait = self.addresses.wait(_address(address))
        if wait:
            raise _limited(f"too many unauthenticated requests from {_address(address)}; retry in {wait} ms", wait)

    def unverified(self, address: str | None) -> None:
        """A request from ``address`` failed before its signature verified: spend one of its tokens."""
        self.addresses.take(_address(address))

    def verified(self, kiosk_id: str) -> None:
        """A request verified under ``kiosk_id``'s key: spend one of that kiosk's tokens, or refuse."""
        wait = self.kiosks.take(kiosk_id)
        if wait:
            raise _limited(f"too many requests from kiosk {kiosk_id}; retry in {wait} ms", wait, kiosk=kiosk_id)


class PageLimit:
    """The public pages' allowance: one token bucket per client address."""

    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.addresses = RateLimiter(per_second, burst, clock)

    def set_clock(self, clock: Callable[[], float]) -> None:
        self.addresses.clock = clock

    def spend(self, address: str | None) -> None:
        """One public page request from ``address``: spend a token, or refuse (``PagesLimited``)."""
        wait = self.addresses.take(_address(address))
        if wait:
            raise PagesLimited(_address(address), wait)


def _address(address: str | None) -> str:
    return (address or "unknown")[:64]


def _limited(message: str, wait: int, **detail) -> RequestRejected:
    return RequestRejected("rate_limited", message, retry_after_ms=wait, **detail)
