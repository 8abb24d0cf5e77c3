"""A scripted kiosk for server tests: a fixed-seed key, its own chain, and helpers that
build, sign and push batches exactly as a real kiosk would (through sync/ only)."""

import msgspec

from schema.types import GENESIS
from schema.wire import (Award, EnrollRequest, HistoryRequest, Item, LookupRequest, PullRequest, Redeem, StockIn, StockLine,
                         TaskClaim, TaskDone, Void, Voice, VoiceRating)
from sync import codec, tracking
from sync.batch import build_batch, event_id
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE
from sync.signing import SigningKey, VerifyKey



def verified(resp, server_key: str) -> bytes:
    """The response body, after checking its signature as a kiosk must."""
    VerifyKey(server_key).verify("response", resp.content, resp.headers[HEADER_SIGNATURE])
    return resp.content


class KioskDouble:
    def __init__(self, client, seed: int, clock, label: str = "test kiosk"):
        self.client = client
        self.key = SigningKey(bytes([seed]) * 32)
        self.clock = clock
        self.label = label
        self.id: str | None = None
        self.shop: str | None = None
        self.server_key: str | None = None
        self.seq, self.prev, self.kseq = 0, GENESIS, 0

    # ------------------------------------------------------------ enrolment

    def enroll_request(self, code: str, proof_key: SigningKey | None = None) -> bytes:
        message = f"{code}\n{self.key.public_hex}".encode()
        proof = (proof_key or self.key).sign("enroll", message)
        return codec.encode(EnrollRequest(v=1, code=code, public_key=self.key.public_hex, label=self.label, proof=proof))

    def enroll(self, code: str):
        resp = self.client.post("/v1/enroll", content=self.enroll_request(code))
        if resp.status_code == 200:
            reply = msgspec.json.decode(resp.content)
            self.id, self.shop, self.server_key = reply["kiosk"], reply["shop"], reply["server_key"]
        return resp

    # ------------------------------------------------------------ events

    def _next(self) -> tuple[str, int]:
        self.kseq += 1
        return event_id(self.id, self.kseq), self.kseq

    def award(self, card: str, rule: str, points: int, op: str = "op1") -> Award:
        eid, k = self._next()
        return Award(id=eid, kseq=k, at=self.clock(), operator=op, resident=card, rule=rule, points=points)

    def redeem(self, card: str, *lines: tuple[str, int, int], op: str = "op1") -> Redeem:
        eid, k = self._next()
        items = [Item(sku=s, qty=q, price=p) for s, q, p in lines]
        return Redeem(id=eid, kseq=k, at=self.clock(), operator=op, resident=card, items=items, total=sum(q * p for _, q, p in lines))

    def void(self, target: str, reason: str = "录入错误", op: str = "sup1") -> Void:
        eid, k = self._next()
        return Void(id=eid, kseq=k, at=self.clock(), operator=op, target=target, reason=reason)

    def stock_in(self, *lines: tuple[str, int], op: str = "op1") -> StockIn:
        eid, k = self._next()
        return StockIn(id=eid, kseq=k, at=self.clock(), operator=op, items=[StockLine(sku=s, qty=q) for s, q in lines])

    def voice(self, card: str, channel: str = "letter", text: str = "村口路灯坏了三天了", category: str = "roads",
              op: str = "op1") -> Voice:
        eid, k = self._next()
        return Voice(id=eid, kseq=k, at=self.clock(), operator=op, resident=card, channel=channel, category=category,
                     text=text, code=tracking.tracking_code(self.id, k))

    def rate(self, card: str, code: str, stars: int, op: str = "op1") -> VoiceRating:
        eid, k = self._next()
        return VoiceRating(id=eid, kseq=k, at=self.clock(), operator=op, resident=card, code=code, stars=stars)

    def claim(self, card: str, task: str, op: str = "op1") -> TaskClaim:
        eid, k = self._next()
        return TaskClaim(id=eid, kseq=k, at=self.clock(), operator=op, resident=card, task=task)

    def done(self, card: str, task: str, claim: str, rule: str, points: int, op: str = "op1") -> TaskDone:
        eid, k = self._next()
        return TaskDone(id=eid, kseq=k, at=self.clock(), operator=op, resident=card, task=task, claim=claim, rule=rule,
                        points=points)

    # ------------------------------------------------------------ batches

    def batch(self, *events, seq: int | None = None, prev: str | None = None) -> bytes:
        """Build the next batch of the chain (or one at an explicit seq/prev) and advance."""
        body = build_batch(self.id, seq or self.seq + 1, prev or self.prev, self.clock(), list(events))
        if seq is None:
            self.seq += 1
            self.prev = codec.digest(body)
        return body

    def push(self, body: bytes, signature: str | None = None, kiosk: str | None = None):
        headers = {HEADER_KIOSK: kiosk or self.id, HEADER_SIGNATURE: signature or self.key.sign("batch", body)}
        return self.client.post("/v1/push", content=body, headers=headers)

    def pull(self, cursor: int = 0, limit: int = 100, nonce: str = "0" * 32, clock: int | None = None):
        body = codec.encode(PullRequest(v=1, kiosk=self.id, cursor=cursor, limit=limit, nonce=nonce, clock=clock or self.clock()))
        headers = {HEADER_KIOSK: self.id, HEADER_SIGNATURE: self.key.sign("pull", body)}
        return self.client.post("/v1/pull", content=body, headers=headers)

    def lookup(self, card: str, nonce: str = "1" * 32, key: SigningKey | None = None):
        body = codec.encode(LookupRequest(v=1, kiosk=self.id, card=card, nonce=nonce, clock=self.clock()))
        headers = {HEADER_KIOSK: self.id, HEADER_SIGNATURE: (key or self.key).sign("lookup", body)}
        return self.client.post("/v1/lookup", content=body, headers=headers)

    def history(self, card: str, limit: int = 100, nonce: str = "2" * 32):
        body = codec.encode(HistoryRequest(v=1, kiosk=self.id, card=card, nonce=nonce, clock=self.clock(), limit=limit))
        headers = {HEADER_KIOSK: self.id, HEADER_SIGNATURE: self.key.sign("history", body)}
        return self.client.post("/v1/history", content=body, headers=headers)
