"""Deterministic, realistic benchmark data (shared DOMAIN.md): the programme itself comes
from the server's demo generator; this module adds what a benchmark needs on top — the
events kiosks record, signed batches of them, and years of history written straight into
a server or kiosk database with ``executemany`` (going through HTTP would take hours and
measure nothing new).

Everything is derived from a seed, so two runs push the same bytes.
"""

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from schema.types import GENESIS
from schema.wire import Award, Item, Redeem, StockIn, StockLine, Void
from server.services.demo import GOODS, RULES, DemoData, generate
from sync import codec
from sync.batch import build_batch
from sync.signing import SigningKey

COMMUNITIES = 120
SEED = 2024
T0 = 1_764_000_000_000  # 2025-11-24, UTC ms: where generated time starts

# How often each kind of conduct is recorded: everyday basic duties dominate.
RULE_WEIGHTS = {"LJFL": 30, "MQSB": 20, "JMHY": 8, "ZYFW": 10, "LLHZ": 8, "TJJF": 3, "FXJZ": 1, "WMCJ": 6,
                "WZDJ": 1, "LRLJ": 3, "LLJF": 2, "LTLH": 1}
RULE_POINTS = {r[0]: r[3] for r in RULES}
PRICES = {g[0]: g[3] for g in GOODS}


def programme(residents: int, seed: int = SEED) -> DemoData:
    return generate(residents, COMMUNITIES, seed)


@dataclass
class EventMaker:
    """Events of one kiosk, in kseq order: about 75% awards, 22% redemptions, 2% deliveries, 1% voids."""

    kiosk: str
    cards: list[str]
    operator: str = "op1"
    seed: int = SEED
    kseq: int = 0
    at: int = T0
    gap_ms: int = 47_500  # mean time between two events of this kiosk

    def __post_init__(self):
        self.rng = random.Random(f"{self.seed}:events:{self.kiosk}")
        self._rules = list(RULE_WEIGHTS)
        self._weights = list(RULE_WEIGHTS.values())
        self._skus = list(PRICES)
        self._balances: dict[str, int] = {}

    def next(self):
        rng = self.rng
        self.kseq += 1
        self.at += rng.randrange(self.gap_ms // 10, self.gap_ms * 19 // 10)
        eid = f"{self.kiosk}-{self.kseq}"
        card = self.cards[rng.randrange(len(self.cards))]
        roll = rng.random()
        if roll < 0.01 and self.kseq > 1000:
            target = f"{self.kiosk}-{self.kseq - rng.randrange(600, 1000)}"
            return Void(id=eid, kseq=self.kseq, at=self.at, operator=self.operator, target=target, reason="录入有误")
        if roll < 0.02:
            # deliveries keep the shelves stocked (opening stock is 20-100 of each good)
            return StockIn(id=eid, kseq=self.kseq, at=self.at, operator=self.operator,
                           items=[StockLine(sku=s, qty=40) for s in self._skus], note="到货")
        if roll < 0.25:
            # a resident redeems what they can afford (as far as this kiosk can tell)
            lines = rng.sample(self._skus, rng.randrange(1, 3))
            items = [Item(sku=s, qty=1, price=PRICES[s]) for s in sorted(lines)]
            total = sum(i.price for i in items)
            for _ in range(8):
                if self.balance(card) >= total:
                    self._balances[card] -= total
                    return Redeem(id=eid, kseq=self.kseq, at=self.at, operator=self.operator, resident=card,
                                  items=items, total=total)
                card = self.cards[rng.randrange(len(self.cards))]
        rule = rng.choices(self._rules, self._weights)[0]
        self._balances[card] = self.balance(card) + RULE_POINTS[rule]
        return Award(id=eid, kseq=self.kseq, at=self.at, operator=self.operator, resident=card, rule=rule,
                     points=RULE_POINTS[rule], note="")

    def balance(self, card: str) -> int:
        """Opening points (as the demo generator grants them) plus what this kiosk recorded."""
        if card not in self._balances:
            rng = random.Random(f"{self.seed}:opening:{card}")
            self._balances[card] = rng.randrange(1, 31) * 10 if rng.random() < 0.7 else 0
        return self._balances[card]

    def take(self, n: int) -> list:
        return [self.next() for _ in range(n)]


def signed_batches(key: SigningKey, kiosk: str, events: list, size: int = 500, first_seq: int = 1,
                   prev: str = GENESIS) -> list[tuple[bytes, str]]:
    """(body, signature) of consecutive batches, exactly as a kiosk would send them."""
    out = []
    seq = first_seq
    for i in range(0, len(events), size):
        chunk = events[i:i + size]
        body = build_batch(kiosk, seq, prev, chunk[-1].at, chunk)
        out.append((body, key.sign("batch", body)))
        prev = codec.digest(body)
        seq += 1
    return out


def posting_rows(ev, shop: str = "S01") -> list[tuple[str, str, int, int]]:
    """(event, account, amount, at): the double entry of one award or redemption."""
    if isinstance(ev, Award):
        return [(ev.id, f"resident:{ev.resident}", ev.points, ev.at), (ev.id, "programme:issued", -ev.points, ev.at)]
    if isinstance(ev, Redeem):
        return [(ev.id, f"resident:{ev.resident}", -ev.total, ev.at), (ev.id, f"shop:{shop}", ev.total, ev.at)]
    return []  # deliveries move stock, not points


def event_row(ev, kiosk: str, batch_seq: int, now: int, shop: str = "S01") -> tuple:
    return (ev.id, kiosk, batch_seq, ev.kseq, type(ev).__struct_config__.tag, ev.at, now,
            getattr(ev, "resident", None), ev.operator, shop, codec.encode(ev))


EVENT_INSERT = ("INSERT INTO events(id, kiosk, batch_seq, kseq, kind, at, received_at, resident, operator, shop, body)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)")
POSTING_INSERT = "INSERT INTO postings(event, account, amount, at) VALUES (?,?,?,?)"


def connect_durable(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the server's durability pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


HISTORY_SHOPS = ("S01", "S02", "ST01", "ST02", "ST03", "ST04")


def write_server_history(db_path: Path, n_events: int, cards: list[str], kiosks: int = 100, chunk: int = 100_000,
                         seed: int = SEED, days: int = 1095, end: int = T0,
                         kiosk_shops: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """``n_events`` of past kiosk activity (events, postings, batch rows, balance caches),
    spread over the ``days`` before ``end`` across the demo shops and stations, written
    straight into a migrated server database through the server's schema. Batch bodies are
    placeholders: nothing on the push path or in the reports reads old batches.

    ``kiosk_shops`` (kiosk id -> shop) names the kiosks that record them (default:
    ``kiosks`` made-up ids over ``HISTORY_SHOPS``). Returns each kiosk's (last batch seq,
    time of its last event)."""
    if n_events <= 0:
        return {}
    if kiosk_shops is None:
        kiosk_shops = {f"K9{k:04d}": HISTORY_SHOPS[k % len(HISTORY_SHOPS)] for k in range(kiosks)}
    conn = connect_durable(db_path)
    per_kiosk = -(-n_events // len(kiosk_shops))
    gap = max(1000, days * 86_400_000 // per_kiosk)
    makers = [EventMaker(k, cards, seed=seed, at=end - days * 86_400_000, gap_ms=gap) for k in kiosk_shops]
    balance: dict[str, int] = {}
    batches: dict[str, int] = {}
    written = 0
    conn.execute("BEGIN")
    while written < n_events:
        ev_rows, post_rows, batch_rows = [], [], []
        for m in makers:
            n = min(500, per_kiosk - m.kseq, n_events - written)
            if n <= 0:
                continue
            seq = batches[m.kiosk] = batches.get(m.kiosk, 0) + 1
            events = [e for e in m.take(n) if not isinstance(e, Void)]
            batch_rows.append((m.kiosk, seq, f"{seq:064x}", GENESIS, b"{}", "0" * 128, "applied", m.at, m.at, 0))
            shop = kiosk_shops[m.kiosk]
            for e in events:
                ev_rows.append(event_row(e, m.kiosk, seq, m.at, shop))
                for p in posting_rows(e, shop):
                    post_rows.append(p)
                    balance[p[1]] = balance.get(p[1], 0) + p[2]
            written += n
            if len(ev_rows) >= chunk:
                break
        conn.executemany("INSERT INTO batches(kiosk, seq, hash, prev, body, signature, status, received_at, applied_at, feed)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?)", batch_rows)
        conn.executemany(EVENT_INSERT, ev_rows)
        conn.executemany(POSTING_INSERT, post_rows)
        conn.execute("COMMIT")
        conn.execute("BEGIN")
    conn.executemany("INSERT INTO balances(account, points) VALUES (?, ?)"
                     " ON CONFLICT(account) DO UPDATE SET points = points + excluded.points", list(balance.items()))
    conn.execute("COMMIT")
    conn.close()
    return {m.kiosk: (batches[m.kiosk], m.at) for m in makers if m.kiosk in batches}
