"""A network that misbehaves on purpose, for the simulator, over the root conftest's
in-process server.

Every kiosk gets its own ``AppTransport`` from ``Network``, which, drawing from one seeded
``random.Random``, drops requests, loses replies after the server applied them, delivers
twice, and keeps copies to deliver late (out of order, replies thrown away). A kiosk can be
partitioned off, and can be told to "crash" right after its n-th request reached the server.
"""

import random
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.conftest import AppTransport, InProcessServer


class KioskCrashed(BaseException):
    """Raised out of a kiosk's sync to model the process dying mid-round; BaseException so
    no ``except Exception`` in the product swallows it."""


@dataclass
class Faults:
    drop: float = 0.0  # the request never reaches the server
    lose_reply: float = 0.0  # the server applies it; the kiosk hears nothing
    duplicate: float = 0.0  # delivered twice
    delay: float = 0.0  # kept and delivered later, out of order; the kiosk times out now


@dataclass
class Network:
    server: InProcessServer
    rng: random.Random
    faults: Faults = field(default_factory=Faults)
    partitioned: set[str] = field(default_factory=set)
    late: list[tuple[str, str, bytes, dict]] = field(default_factory=list)
    crash_after: dict[str, int] = field(default_factory=dict)  # kiosk name -> deliveries left
    stats: Counter = field(default_factory=Counter)

    def transport(self, name: str) -> AppTransport:
        return _Transport(self, name)

    def heal(self) -> None:
        self.faults = Faults()
        self.partitioned.clear()
        self.crash_after.clear()

    def deliver_late(self, n: int | None = None) -> None:
        """Deliver up to ``n`` delayed requests now, in random order; replies go nowhere."""
        self.rng.shuffle(self.late)
        take = len(self.late) if n is None else min(n, len(self.late))
        batch, self.late = self.late[:take], self.late[take:]
        for method, path, content, headers in batch:
            if self.server.up:
                self.server.deliver(method, path, content, headers)
                self.stats["late_delivered"] += 1


class _Transport(AppTransport):
    """One kiosk's wire: the faults are drawn here, the delivery is ``AppTransport``'s."""

    def __init__(self, net: Network, name: str):
        super().__init__(net.server)
        self.net = net
        self.name = name

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        net, f, rng = self.net, self.net.faults, self.net.rng
        call = self.call(request)
        if self.name in net.partitioned or not net.server.up:
            net.stats["refused"] += 1
            raise httpx.ConnectError("no route to the server", request=request)
        if rng.random() < f.drop:
            net.stats["dropped"] += 1
            raise httpx.ConnectError("dropped", request=request)
        if rng.random() < f.delay:
            net.late.append(call)
            net.stats["delayed"] += 1
            raise httpx.ReadTimeout("delayed", request=request)
        resp = net.server.deliver(*call)
        if rng.random() < f.duplicate:
            net.stats["duplicated"] += 1
            resp = net.server.deliver(*call) if rng.random() < 0.5 else resp
            net.server.deliver(*call)
        left = net.crash_after.get(self.name)
        if left is not None:
            if left <= 1:
                del net.crash_after[self.name]
                net.stats["kiosk_crashed_mid_sync"] += 1
                raise KioskCrashed(self.name)
            net.crash_after[self.name] = left - 1
        if rng.random() < f.lose_reply:
            net.stats["reply_lost"] += 1
            raise httpx.ReadTimeout("reply lost", request=request)
        net.stats["delivered"] += 1
        return httpx.Response(resp.status_code, headers=resp.headers, content=resp.content)
