"""``/metrics``: the server's figures in the Prometheus text format (prometheus_client).

Counted as they happen, in this process: kiosk protocol requests by endpoint and outcome
(a push's reply status — ``applied``, ``duplicate``, ``held`` — ``ok``, or the error
code of docs/PROTOCOL.md's table), and request time by endpoint. Read from the database at each scrape: kiosks by status, active
kiosks silent for longer than the dashboard's limit, batches applied and held, open review
items, the newest checkpoint's size and age. Every series carries the ``backend`` label
(``sqlite`` or ``postgresql``: the store's dialect), so a deployment on several backends can
be compared on one board. The projection's lag: log positions acknowledged and not yet
projected, and the age of the oldest of them (0 when none waits).

Who may read it: with ``metrics_token`` set (``JIFEN_METRICS_TOKEN``), a request bearing
``Authorization: Bearer <token>``; without, only this machine (a loopback client). The
figures name kiosks only by count, but a stranger should not learn the fleet's size.
"""

import hmac
import ipaddress
from collections.abc import Callable

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from server.errors import Forbidden, Unauthorized

class Metrics:
    """One registry per running app (tests run many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.backend = "sqlite"  # the store's dialect, set by ``watch``
        self.requests = Counter("jifen_kiosk_requests", "Kiosk protocol requests by endpoint and outcome (ok or error code)",
                                ["backend", "endpoint", "outcome"], registry=self.registry)
        self.seconds = Histogram("jifen_kiosk_request_seconds", "Kiosk protocol request time in the server",
                                 ["backend", "endpoint"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

    def watch(self, figures: Callable[[], dict], now: Callable[[], int], backend: str) -> None:
        """Read ``figures()`` (server.services.dashboard.fleet_gauges) at each scrape; every
        series is labelled ``backend``."""
        self.backend = backend
        self.registry.register(_Fleet(figures, now, backend))

    def answered(self, endpoint: str, outcome: str, seconds: float | None = None) -> None:
        self.requests.labels(self.backend, endpoint, outcome).inc()
        if seconds is not None:
            self.seconds.labels(self.backend, endpoint).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Fleet:
    """The gauges read from the database at scrape time."""

    def __init__(self, figures: Callable[[], dict], now: Callable[[], int], backend: str) -> None:
        self.figures, self.now, self.backend = figures, now, backend

    def describe(self):  # no scrape at registration
        return []

    def collect(self):
        g = self.figures()
        now = self.now()

        def gauge(name: str, doc: str, value: float, **labels: str) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, doc, labels=["backend", *labels])
            family.add_metric([self.backend, *labels.values()], value)
            return family

        kiosks = GaugeMetricFamily("jifen_kiosks", "Kiosks by status", labels=["backend", "status"])
        for status in ("active", "revoked", *sorted(set(g["kiosks"]) - {"active", "revoked"})):
            kiosks.add_metric([self.backend, status], g["kiosks"].get(status, 0))
        yield kiosks
        yield gauge("jifen_kiosks_silent", f"Active kiosks not heard from for {g['silent_hours']} h", g["silent"])
        batches = GaugeMetricFamily("jifen_batches", "Stored batches by status", labels=["backend", "status"])
        for status in ("applied", "held"):
            batches.add_metric([self.backend, status], g["batches"].get(status, 0))
        yield batches
        yield gauge("jifen_reviews_open", "Open review items", g["open_reviews"])
        yield gauge("jifen_checkpoint_size", "Batches the newest checkpoint covers", g["checkpoint_size"])
        age = (now - g["checkpoint_at"]) / 1000 if g["checkpoint_at"] is not None else float("nan")
        yield gauge("jifen_checkpoint_age_seconds", "Seconds since the newest checkpoint was signed", age)
        yield gauge("jifen_projection_behind", "Batches acknowledged (in the ingest log) and not yet projected into the ledger",
                    g["projection_behind"])
        yield gauge("jifen_projection_lag_seconds", "Age of the oldest acknowledged batch not yet projected (0: none waits)",
                    g["projection_lag_ms"] / 1000)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@get("/metrics", sync_to_thread=True, include_in_schema=False)
def metrics(request: Request) -> Response:
    ctx = request.app.state.ctx
    token = ctx.settings.metrics_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("metrics: give Authorization: Bearer <the server's JIFEN_METRICS_TOKEN>")
    elif not _loopback(request.client.host if request.client else None):
        raise Forbidden("metrics: only this machine may read them unless the server sets JIFEN_METRICS_TOKEN")
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)
