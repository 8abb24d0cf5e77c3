"""Demo activity at a demo service station: residents' letters and requests, their
handling and ratings, and volunteer tasks claimed and done, at the programme's proportions
(DOMAIN.md: 2,019 letters and 3,300+ requests in three years, 96% and 92% of those rated
given 4 or 5 stars), as really signed kiosk batches.

The station's kiosk is enrolled like any other (a one-time code, a key made here from
``os.urandom`` and never written anywhere: nothing can sign as it afterwards), and its
batches go through the same ingest path as a real kiosk's (``server.services.push``:
signature, chain, log, projection), so the demo's letters, ratings and task awards are
signed events that ``audit`` re-derives. Staff handle the letters and requests and post
the tasks through the same use cases as the console. Deterministic in what it records
(seeded), not in the key; run once: a database that has the demo station's kiosk is left
alone."""

import os
import random

from schema.types import GENESIS
from schema.wire import EnrollRequest, TaskClaim, TaskDone, Voice, VoiceRating
from server.services import enroll, push, tasks, voice
from server.services.context import Context
from server.services.staff import SYSTEM
from server.store import chain
from sync import codec, tracking
from sync.batch import build_batch, event_id
from sync.kinds.voice import CATEGORIES
from sync.protocol import HEADER_KIOSK, KIOSK_BATCH_EVENTS
from sync.signing import SigningKey

LABEL = "演示驿站终端"
#: letters : requests, as the programme counted them over three years
LETTERS, REQUESTS = 2019, 3300
#: the share of rated letters and requests given 4 or 5 stars
GOOD_SHARE = {"letter": 0.96, "request": 0.92}
HANDLED = 0.9  # of the items, replied to and done
RATED = 0.85  # of the done items, rated
DAY = 86_400_000
REPLIES = {"letter": "已收到来信，社区已安排人员处理并回访。", "request": "诉求已交办，已按约定时间上门办理完毕。"}
WORDS = {"environment": "小区垃圾桶满了没人清运", "roads": "村口路灯坏了，晚上看不见路", "safety": "楼道里堆放杂物有安全隐患",
         "neighbours": "楼上装修噪音太大", "elderly": "独居老人需要有人定期探望", "services": "希望驿站周末也能办事",
         "suggestion": "建议在广场增加健身器材", "other": "想了解积分兑换的规则"}
TASKS = [("TJJF", "调解邻里纠纷", 3), ("LLHZ", "便民维修：帮独居老人修水管", 2), ("ZYFW", "收集居民意见", 4)]


def demo_station(ctx: Context, data, seed: int = 2024) -> dict:
    """Record the demo station's activity once; how much of each it recorded (all 0 when it
    was recorded before, or there is no station)."""
    out = {"station_kiosk": 0, "letters": 0, "requests": 0, "handled": 0, "ratings": 0, "tasks": 0, "task_done": 0}
    station = next((s for s in data.shops if s["kind"] == "station"), None)
    with ctx.store.read() as db:
        if station is None or any(k["label"] == LABEL for k in chain.list_kiosks(db)):
            return out
    operator = next(o["id"] for o in data.operators if o["shop"] == station["id"] and o["role"] == "operator")
    residents = [r["card"] for r in data.residents if r["community"] == station["community"] and r["status"] == "active"]
    rng = random.Random(f"{seed}:station")
    kiosk = _Station(ctx, station["id"], operator)
    out["station_kiosk"] = 1
    now = ctx.now()

    n = max(len(residents) // 2, 8)
    n_letters = max(round(n * LETTERS / (LETTERS + REQUESTS)), 1)
    items = []
    for i in range(n):
        channel = "letter" if i < n_letters else "request"
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        card = residents[rng.randrange(len(residents))]
        items.append(kiosk.event(lambda eid, k, at, c=channel, g=category, r=card: Voice(
            id=eid, kseq=k, at=at, operator=operator, resident=r, channel=c, category=g, text=WORDS[g],
            code=tracking.tracking_code(kiosk.id, k)), now - rng.randrange(2, 90) * DAY))
    kiosk.push()
    out["letters"], out["requests"] = n_letters, n - n_letters

    done = [ev for ev in items if rng.random() < HANDLED]
    for ev in done:
        voice.reply(ctx, SYSTEM, ev.code, REPLIES[ev.channel])
        voice.done(ctx, SYSTEM, ev.code)
    out["handled"] = len(done)
    for channel in ("letter", "request"):
        rated = [ev for ev in done if ev.channel == channel and rng.random() < RATED]
        low = round(len(rated) * (1 - GOOD_SHARE[channel]))
        for j, ev in enumerate(rng.sample(rated, len(rated))):
            stars = rng.choice((1, 2, 3)) if j < low else rng.choice((4, 5, 5))
            kiosk.event(lambda eid, k, at, e=ev, s=stars: VoiceRating(
                id=eid, kseq=k, at=at, operator=operator, resident=e.resident, code=e.code, stars=s), now)
        out["ratings"] += len(rated)
    kiosk.push()

    for rule, title, slots in TASKS:
        task = tasks.post(ctx, SYSTEM, station["community"], rule, title, slots)
        out["tasks"] += 1
        for card in rng.sample(residents, min(slots, len(residents))):
            claim = kiosk.event(lambda eid, k, at, t=task["id"], r=card: TaskClaim(
                id=eid, kseq=k, at=at, operator=operator, resident=r, task=t), now)
            if rng.random() < 0.75:
                kiosk.event(lambda eid, k, at, t=task, r=card, c=claim.id: TaskDone(
                    id=eid, kseq=k, at=at, operator=operator, resident=r, task=t["id"], claim=c, rule=t["rule"],
                    points=t["points"]), now)
                out["task_done"] += 1
    kiosk.push()
    return out


class _Station:
    """The demo station's kiosk: enrolled with a fresh key held only in memory; its events
    signed into batches and pushed through ``server.services.push``."""

    def __init__(self, ctx: Context, shop: str, operator: str):
        self.ctx = ctx
        self.key = SigningKey(os.urandom(32))
        code = enroll.enroll_code(ctx, SYSTEM, shop)["code"]
        proof = self.key.sign("enroll", enroll.proof_message(code, self.key.public_hex))
        reply = enroll.enroll(ctx, codec.encode(EnrollRequest(v=1, code=code, public_key=self.key.public_hex, label=LABEL,
                                                              proof=proof)))
        self.id = reply.kiosk
        self.seq, self.prev, self.kseq = 0, GENESIS, 0
        self.pending: list = []

    def event(self, make, at: int):
        self.kseq += 1
        ev = make(event_id(self.id, self.kseq), self.kseq, at)
        self.pending.append(ev)
        return ev

    def push(self) -> None:
        while self.pending:
            events, self.pending = self.pending[:KIOSK_BATCH_EVENTS], self.pending[KIOSK_BATCH_EVENTS:]
            self.seq += 1
            body = build_batch(self.id, self.seq, self.prev, self.ctx.now(), events)
            signature = self.key.sign("batch", body)
            reply = push.push(self.ctx, self.id, signature, body, {HEADER_KIOSK: self.id}).reply
            self.prev = reply.hash
