"""Per-kiosk request rate limit: an in-memory token bucket for each ``Jifen-Kiosk`` id.

It is checked before anything else about a push or pull, so a flood under one kiosk id
costs the server neither a signature check nor a quarantine row. A kiosk that is refused
gets ``429 rate_limited`` with ``retry_after_ms`` and simply syncs later: nothing it
recorded is at risk. Buckets live in one process's memory; a restart refills them.
"""

import threading
import time
from collections.abc import Callable

from sync.protocol import RequestRejected

#: beyond this many tracked ids, full buckets (idle kiosks, made-up ids) are forgotten
MAX_TRACKED = 100_000


class RateLimiter:
    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Spend one token of ``key``; 0 when allowed, else milliseconds until one is back."""
        if self.per_second <= 0:
            return 0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > MAX_TRACKED:
                    self._forget_full(now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, int((1 - tokens) / self.per_second * 1000))

    def _forget_full(self, now: float) -> None:
        full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.per_second >= self.burst]
        for k in full:
            del self._buckets[k]

    def check(self, kiosk_id: str | None) -> None:
        """Raise ``rate_limited`` when this kiosk id has used up its requests for now."""
        wait = self.take((kiosk_id or "")[:40])
        if wait:
            raise RequestRejected(
                "rate_limited",
                f"too many requests from kiosk {(kiosk_id or '')[:40]}; retry in {wait} ms",
                kiosk=(kiosk_id or "")[:40],
                retry_after_ms=wait,
            )

