"""A deterministic, seeded simulation of a shop network: several real kiosks (KioskService
over their own SQLite files), one real server (create_app over its files), and a network
that drops, loses replies, duplicates and reorders (``simnet``). Kiosks and the server
crash and restart from their files, kiosk clocks drift, operators award, redeem and void
at random — including double spends while partitioned. ``heal_and_settle`` then syncs
everyone, and ``problems`` lists every broken invariant (``oracle``). The server's database
is a ``backends.ServerDb``: SQLite's file in its folder or a PostgreSQL database.

Every random choice comes from one ``random.Random(seed)``, so a seed replays a run.
"""

import random
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.service import KioskService
from kiosk.settings import Settings as KioskSettings
from server.services.audit import audit
from server.services.backup import backup, restore
from server.services.enroll import enroll_code
from server.services.manage import set_shop_serves
from server.services.staff import SYSTEM
from tests.faults import oracle
from tests.conftest import SECOND, Clock, InProcessServer
from tests.faults.backends import ServerDb
from tests.faults.simnet import Faults, KioskCrashed, Network

#: (name, shop, operator): two kiosks share shop S01 so its stock can go below zero
KIOSKS = [("a1", "S01", "op1"), ("a2", "S01", "op1"), ("b", "S02", "op2"), ("st", "ST01", "op3")]
RULES = ["LJFL", "ZYFW", "LLHZ", "TJJF", "LRLJ", "JMHY"]
SKUS = ["SOAP", "SALT", "TOWEL", "PASTE"]


@dataclass
class SimKiosk:
    name: str
    shop: str
    operator: str
    data: Path
    svc: KioskService | None = None
    drift: int = 0  # ms this kiosk's clock is off
    confirmed: list[str] = field(default_factory=list)  # event ids the service returned


class Simulation:
    def __init__(self, seed: int, root: Path, server_db: ServerDb, n_cards: int = 6):
        self.seed = seed
        self.db = server_db
        self.rng = random.Random(seed)
        self.clock = Clock()
        # the rate limiter on simulated time too, so a seed replays exactly
        self.server = InProcessServer(server_db.settings(clock=self.clock),
                                      limiter_clock=lambda: self.clock() / SECOND).start()
        self.net = Network(self.server, random.Random(seed * 7919 + 1))
        self.kiosks: list[SimKiosk] = []
        self.root = root
        self.backups: list[Path] = []
        self.restores = 2
        self.log: list[str] = []
        self.sync_problems: list[str] = []
        with server_db.connect() as db:
            self.cards = [r[0] for r in db.execute("SELECT card FROM residents ORDER BY card LIMIT ?", (n_cards,))]
            communities = [r[0] for r in db.execute("SELECT DISTINCT community FROM residents ORDER BY 1")]
        for shop in sorted({shop for _, shop, _ in KIOSKS}):
            # every shop serves every community: residents spend at shops that cannot see each other
            set_shop_serves(self.server.ctx, SYSTEM, shop, communities)
        for name, shop, op in KIOSKS:
            k = SimKiosk(name, shop, op, root / name)
            self._open(k)
            code = enroll_code(self.server.ctx, SYSTEM, shop)["code"]
            k.svc.enroll("http://central.sim", code, seed=self.rng.randbytes(32))
            self.kiosks.append(k)
            self._sync(k)
        self.net.faults = Faults(drop=0.1, lose_reply=0.15, duplicate=0.05, delay=0.05)

    # ------------------------------------------------------------ plumbing

    def _open(self, k: SimKiosk) -> None:
        k.svc = KioskService(
            KioskSettings(data_dir=k.data, lang="en", batch_events=self.rng.choice([1, 3, 50])),
            clock=lambda k=k: self.clock() + k.drift,
            transport=self.net.transport(k.name),
            nonce=lambda: self.rng.randbytes(16).hex(),
        )

    def _crash(self, k: SimKiosk) -> None:
        """The process dies: its connection goes, uncommitted work with it; then it restarts."""
        k.svc.close()
        self._open(k)
        durable = oracle.kiosk_events(k.data / "kiosk.db")
        lost = [e for e in k.confirmed if e not in durable]
        assert not lost, f"seed {self.seed}: kiosk {k.name} lost confirmed events {lost[:5]} in a crash"

    def _sync(self, k: SimKiosk) -> bool:
        try:
            result = k.svc.sync()
        except KioskCrashed:
            self.log.append(f"{k.name} crashed mid-sync")
            self._crash(k)
            return False
        if not result.ok and result.problem != "offline" and result.detail.get("code") != "rate_limited":
            self.sync_problems.append(f"{k.name}: {result.problem} {result.detail}")
        return result.ok

    # ------------------------------------------------------------ one random step

    def step(self) -> None:
        rng = self.rng
        self.clock.advance(rng.choice([1_000, 20_000, 60_000, 600_000, 3_600_000]))
        k = rng.choice(self.kiosks)
        k.drift += rng.randint(-2_000, 2_000)
        roll = rng.random()
        try:
            if roll < 0.25:
                self._record(k, "award", rng.choice(self.cards), rng.choice(RULES))
            elif roll < 0.47:
                items = [(rng.choice(SKUS), rng.randint(1, 3))]
                self._record(k, "redeem", rng.choice(self.cards), items)
            elif roll < 0.52:
                self._void(k)
            elif roll < 0.55:
                self._record(k, "stock_in", [(rng.choice(SKUS), rng.randint(1, 5))])
            elif roll < 0.75:
                self._sync(k)
            elif roll < 0.80:
                (self.net.partitioned.discard if k.name in self.net.partitioned else self.net.partitioned.add)(k.name)
            elif roll < 0.83:
                self._crash(k)
            elif roll < 0.85:
                self.net.crash_after[k.name] = rng.randint(1, 4)
            elif roll < 0.87:
                self.server.restart()
            elif roll < 0.89:
                self.server.stop() if self.server.up else self.server.start()
            elif roll < 0.93:
                self.net.deliver_late(rng.randint(1, 3))
            elif roll < 0.96:
                self.net.faults = Faults(*(rng.choice([0.0, 0.1, 0.2, 0.4]) for _ in range(4)))
            elif roll < 0.97:
                k.drift = rng.choice([0, -3_600_000, 2 * 3_600_000, rng.randint(-60_000, 60_000)])
            elif roll < 0.975 and self.server.up:
                self.backups.append(self.root / f"backup-{len(self.backups)}.db")
                backup(self.server.settings, self.backups[-1])
            elif roll < 0.98 and self.backups and self.restores:
                self.restores -= 1  # central staff restore an older backup: kiosks must refill it
                self.server.stop()
                restore(self.server.settings, rng.choice(self.backups))
                self.server.start()
                self.log.append("server restored from a backup")
            elif roll < 0.99:  # a double spend: the same resident at two shops that cannot see each other
                card = rng.choice(self.cards)
                for other in self.kiosks[:3]:
                    self.net.partitioned.add(other.name)
                    self._record(other, "redeem", card, [("SOAP", 2)])
            else:  # the last goods on the shelf, handed out by both kiosks of one shop while cut off
                sku = "SALT"  # 10 points: cheap enough to empty the shelf within the offline cap
                for other in self.kiosks[:2]:
                    self.net.partitioned.add(other.name)
                    for card in self.cards:
                        for _ in range(5):  # flood relief: points to spend on the spot
                            self._record(other, "award", card, "FXJZ")
                        left = other.svc.stock_available().get(sku, 0)
                        allowance = other.svc.offline_allowance(card)
                        spend = other.svc.balance(card).available if allowance is None else min(allowance, other.svc.balance(card).available)
                        qty = min(left, spend // 10)
                        if qty > 0:
                            self._record(other, "redeem", card, [(sku, qty)])
        except KioskError:
            pass  # refused at the counter (balance, lease, stock, offline cap): nothing recorded

    def _record(self, k: SimKiosk, kind: str, *args) -> None:
        try:
            if kind == "award":
                eid = k.svc.award(args[0], args[1], k.operator).id
            elif kind == "redeem":
                eid = k.svc.redeem(args[0], args[1], k.operator).id
            else:
                eid = k.svc.stock_in(args[0], k.operator).id
        except KioskError:
            return
        k.confirmed.append(eid)

    def _void(self, k: SimKiosk) -> None:
        rows = [r for r in k.svc.store.recent_events(20) if r["kind"] != "void" and not r["voided_by"]]
        if rows:
            # a void is recorded under the shop's supervisor (demo: sup<n> beside op<n>)
            eid = k.svc.void(self.rng.choice(rows)["id"], "录入错误", "sup" + k.operator.removeprefix("op")).id
            k.confirmed.append(eid)

    # ------------------------------------------------------------ the end

    def heal_and_settle(self, rounds: int = 12) -> None:
        self.net.heal()
        if not self.server.up:
            self.server.start()
        self.net.deliver_late()
        for k in self.kiosks:
            k.drift = 0
        for _ in range(rounds):
            self.clock.advance(60_000)  # a minute between rounds, as a kiosk's background sync would wait
            if all(self._sync(k) for k in self.kiosks) and all(k.svc.status()["pending_events"] == 0 for k in self.kiosks):
                break
        for k in self.kiosks:  # one more pull each, so every mirror has everyone's effects
            self._sync(k)

    def problems(self) -> list[str]:
        out = [f"sync stopped: {p}" for p in self.sync_problems]
        out += [f"server error: {e}" for e in self.server.errors]
        for k in self.kiosks:
            st = k.svc.status()
            if st["pending_events"]:
                out.append(f"{k.name}: {st['pending_events']} events never acknowledged")
        report = audit(self.server.ctx)
        out += [f"audit: {f}" for f in report.failures]
        with self.db.connect() as db:
            ids = {k.svc.kiosk_id: oracle.kiosk_events(k.data / "kiosk.db") for k in self.kiosks}
            for k in self.kiosks:
                missing = set(k.confirmed) - set(ids[k.svc.kiosk_id])
                if missing:
                    out.append(f"{k.name}: confirmed events missing on the kiosk itself: {sorted(missing)[:5]}")
            out += oracle.check_server(db, ids)
            for k in self.kiosks:
                out += oracle.check_mirror(k.data / "kiosk.db", db, k.shop)
            quarantined = db.execute("SELECT kiosk, code, message FROM quarantine").fetchall()
            out += [f"honest request quarantined: {q}" for q in quarantined]
        return out

    def summary(self) -> str:
        with self.db.connect() as db:
            reviews = dict(db.execute("SELECT kind, count(*) FROM review_items GROUP BY kind").fetchall())
        return f"seed {self.seed}: network {dict(self.net.stats)}; events {[len(k.confirmed) for k in self.kiosks]}; reviews {reviews}; backups {len(self.backups)}, restores {2 - self.restores}"

    def close(self) -> None:
        for k in self.kiosks:
            k.svc.close()
        self.server.stop()


def run(seed: int, root: Path, server_db: ServerDb, steps: int) -> tuple[list[str], Simulation]:
    sim = Simulation(seed, root, server_db)
    try:
        for _ in range(steps):
            sim.step()
        sim.heal_and_settle()
        problems = sim.problems()
        print(sim.summary())
        return problems, sim
    finally:
        sim.close()
