"""Background sync policy: when to try again, one round that never raises, and the
cheap health probe between rounds that lets the status bar follow the server in seconds.

The app runs ``sync_once`` in a thread worker. After a success the next round comes after
``interval``; after each failure the wait doubles from ``first_retry`` up to ``max_wait``,
so a shop whose network is gone for days does not hammer the server when it comes back,
and a short blip is retried quickly. Imports no Textual.
"""

import logging
from dataclasses import dataclass

from kiosk.errors import KioskError
from kiosk.syncing import SyncResult

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    interval: float = 60.0
    first_retry: float = 5.0
    max_wait: float = 300.0
    failures: int = 0

    def next_delay(self, ok: bool) -> float:
        """Seconds until the next round, given how this one went."""
        if ok:
            self.failures = 0
            return self.interval
        self.failures += 1
        return min(self.max_wait, self.first_retry * 2 ** (self.failures - 1))


#: the health probe: every few seconds while the server answers; while it does not, from
#: ``first_retry`` doubling to ``max_wait``, so a shop offline for days sends little
PROBE_EVERY = 3.0


def probe_backoff(every: float = PROBE_EVERY) -> Backoff:
    return Backoff(interval=every, first_retry=min(every, 2.0), max_wait=30.0)


def probe_once(svc) -> bool:
    """Does the server answer ``svc`` (a KioskService) now? Never raises: a probe that fails
    in any way says "no"."""
    try:
        return svc.probe()
    except Exception:  # noqa: BLE001 - a probe is a yes/no question; the next sync reports errors
        return False


@dataclass(frozen=True)
class SyncOutcome:
    result: SyncResult
    status: dict  # KioskService.status() right after the round


def sync_once(svc) -> SyncOutcome:
    """One sync round of ``svc`` (a KioskService), as an outcome the screen can show.

    Known refusals arrive as a result; anything else (a bug, a full disk) is reported the
    same way rather than killing the worker, because the counter must keep recording.
    """
    try:
        result = svc.sync()
    except KioskError as exc:
        result = SyncResult(ok=False, problem=exc.key, detail=exc.fields)
    except Exception as exc:  # noqa: BLE001 - see docstring: report, keep the kiosk running
        log.exception("sync failed")
        result = SyncResult(ok=False, problem="sync_internal", detail={"error": f"{type(exc).__name__}: {exc}"})
    if not result.ok:
        log.info("sync: %s %s", result.problem, result.detail)  # the words on screen leave the detail out
    return SyncOutcome(result, svc.status())
