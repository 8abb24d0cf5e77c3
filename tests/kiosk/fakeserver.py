"""A tiny stand-in for the central server, built from the sync/ primitives, served through
``httpx.MockTransport``. It exists to test the kiosk client's behaviour (signatures,
resends, error actions, tampered pages) with faults on demand; the real server is tested
end to end elsewhere. It signs every reply with a fixed key, like the real one.
"""

import httpx
import msgspec

from schema.types import GENESIS
from schema.wire import (
    Batch,
    BalanceRec,
    Change,
    EnrollReply,
    EnrollRequest,
    ErrorBody,
    ErrorReply,
    GoodRec,
    Lease,
    OperatorRec,
    PullPage,
    PullRequest,
    PushReply,
    ResidentRec,
    RuleRec,
    StockRec,
    Void,
)
from sync import codec
from sync.batch import ChainState, parse_batch, place
from sync.ledger import effects
from sync.passwords import hash_pin
from sync.policy import DEFAULT_POLICY
from sync.protocol import ERRORS, HEADER_KIOSK, HEADER_SIGNATURE, RequestRejected
from sync.signing import BadSignature, SigningKey, verify

SERVER_SEED = bytes([9]) * 32
CODE = "ABCD-EFGH-JKLM"
SHOP = "S01"
CARD = "5101810000001"  # 100 points
CARD2 = "5101810000002"  # 0 points
OP1_PIN, SUP1_PIN = "1234", "9999"
OP1_PIN_HASH, SUP1_PIN_HASH = hash_pin(OP1_PIN, b"op1-salt"), hash_pin(SUP1_PIN, b"sup1-salt")
RETIRED = "5101810000009"


class FakeServer:
    def __init__(self, clock):
        self.clock = clock
        self.key = SigningKey(SERVER_SEED)
        self.kiosk_keys: dict[str, str] = {}
        self.state = ChainState(next_seq=1, last_hash=GENESIS, next_kseq=1)
        self.stored: dict[int, str] = {}  # seq -> hash, applied or held
        self.held: dict[int, bytes] = {}
        self.acks: dict[int, int] = {}  # seq -> feed at apply
        self.events: dict[str, object] = {}
        self.balances: dict[str, int] = {}
        self.stock: dict[str, int] = {}
        self.feed: dict[tuple[str, str], tuple[int, str, bytes | None]] = {}
        self.feed_seq = 0
        self.revoked = False
        self.policy = DEFAULT_POLICY
        # faults on demand
        self.down = False
        self.lose_replies = 0  # process the next N pushes, then drop the reply
        self.reject_pushes: list[str] = []  # answer the next pushes with these error codes
        self.tamper_pages = False
        self.wrong_nonce = False
        self.unsigned = False
        self.pushes: list[bytes] = []  # every push body received, in order
        self.nonces: list[str] = []  # every pull nonce received
        self.seed()

    # ------------------------------------------------------------ data

    def put(self, kind: str, key: str, rec, scope: str = "") -> None:
        self.feed_seq += 1
        self.feed[(kind, key)] = (self.feed_seq, scope, None if rec is None else codec.encode(rec))

    def seed(self) -> None:
        self.put("resident", CARD, ResidentRec(card=CARD, name="张晓明", phone_tail="6789", community="C001", status="active"))
        self.put("resident", CARD2, ResidentRec(card=CARD2, name="李华", phone_tail="1234", community="C001", status="active"))
        self.put("resident", RETIRED, ResidentRec(card=RETIRED, name="王五", phone_tail="0000", community="C001", status="retired"))
        self.put("rule", "R01", RuleRec(code="R01", name="垃圾分类", kind="basic", points=2, cap_day=None, cap_month=None, status="active"))
        self.put("rule", "V01", RuleRec(code="V01", name="志愿服务", kind="encouraged", points=10, cap_day=None, cap_month=None, status="active"))
        self.put("rule", "P01", RuleRec(code="P01", name="乱扔垃圾", kind="prohibited", points=-5, cap_day=None, cap_month=None, status="active"))
        self.put("rule", "OLD", RuleRec(code="OLD", name="旧规则", kind="basic", points=1, cap_day=None, cap_month=None, status="retired"))
        self.put("good", "OIL", GoodRec(sku="OIL", name="食用油", unit="瓶", price=50, status="active"))
        self.put("good", "RICE", GoodRec(sku="RICE", name="大米", unit="袋", price=30, status="active"))
        self.put("good", "TOWEL", GoodRec(sku="TOWEL", name="毛巾", unit="条", price=5, status="active"))
        self.put("operator", "op1", OperatorRec(id="op1", shop=SHOP, name="刘阿姨", role="operator", pin_hash=OP1_PIN_HASH, status="active"), SHOP)
        self.put("operator", "op9", OperatorRec(id="op9", shop=SHOP, name="退休", role="operator", pin_hash="x", status="retired"), SHOP)
        self.set_balance(CARD, 100)
        for sku, qty in (("OIL", 10), ("RICE", 1), ("TOWEL", 1000)):
            self.set_stock(sku, qty)
        self.put("stock", "S02/OIL", StockRec(shop="S02", sku="OIL", qty=99), "S02")

    def add_supervisor(self) -> None:
        """sup1 (PIN ``SUP1_PIN``), for the tests that void."""
        self.put("operator", "sup1", OperatorRec(id="sup1", shop=SHOP, name="张主管", role="supervisor", pin_hash=SUP1_PIN_HASH, status="active"), SHOP)

    def set_balance(self, card: str, points: int) -> None:
        self.balances[card] = points
        self.put("balance", card, BalanceRec(card=card, points=points))

    def set_stock(self, sku: str, qty: int) -> None:
        self.stock[sku] = qty
        self.put("stock", f"{SHOP}/{sku}", StockRec(shop=SHOP, sku=sku, qty=qty), SHOP)

    # ------------------------------------------------------------ HTTP

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(lambda request: self.handle(request))  # late-bound: tests wrap it

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = request.content
        try:
            if request.url.path == "/v1/enroll":
                return self.reply(200, self.enroll(body))
            kiosk = request.headers.get(HEADER_KIOSK, "")
            signature = request.headers.get(HEADER_SIGNATURE, "")
            if kiosk not in self.kiosk_keys:
                raise RequestRejected("unknown_kiosk", f"no kiosk {kiosk}", kiosk=kiosk)
            if request.url.path == "/v1/push":
                return self.push(request, kiosk, body, signature)
            return self.pull(kiosk, body, signature)
        except RequestRejected as exc:
            return self.error(exc.code, exc.message, body, **exc.detail)

    def reply(self, status: int, obj, tamper: bool = False) -> httpx.Response:
        body = codec.encode(obj)
        signature = "00" * 64 if self.unsigned else self.key.sign("response", body)
        if tamper:
            i = body.index(b'"points":') + len(b'"points":')
            body = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]  # one byte changed
        return httpx.Response(status, content=body, headers={HEADER_SIGNATURE: signature})

    def error(self, code: str, message: str, request_body: bytes, **detail) -> httpx.Response:
        err = ErrorReply(error=ErrorBody(code=code, message=message, action=ERRORS[code][1], detail=detail),
                         request=codec.digest(request_body))
        return self.reply(ERRORS[code][0], err)

    def enroll(self, body: bytes) -> EnrollReply:
        req = codec.decode(body, EnrollRequest)
        if req.code != CODE:
            raise RequestRejected("bad_enroll_code", "unknown code")
        verify(req.public_key, "enroll", f"{req.code}\n{req.public_key}".encode("ascii"), req.proof)
        kiosk = f"K{len(self.kiosk_keys) + 1:04d}"
        self.kiosk_keys[kiosk] = req.public_key
        return EnrollReply(v=1, kiosk=kiosk, shop=SHOP, shop_name="龙居社区积分超市",
                           server_key=self.key.public_hex, enrolled_at=self.clock())

    def push(self, request: httpx.Request, kiosk: str, body: bytes, signature: str) -> httpx.Response:
        self.pushes.append(body)
        if self.revoked:
            raise RequestRejected("kiosk_revoked", f"{kiosk} is revoked", kiosk=kiosk)
        if self.reject_pushes:
            code = self.reject_pushes.pop(0)
            raise RequestRejected(code, f"injected {code}", seq=codec.decode(body, Batch).seq)
        try:
            verify(self.kiosk_keys[kiosk], "batch", body, signature)
        except BadSignature:
            raise RequestRejected("bad_signature", "batch signature does not verify", kiosk=kiosk) from None
        batch = parse_batch(body, kiosk)
        digest = codec.digest(body)
        where = place(self.state, batch.seq, batch.prev, digest, self.stored.get(batch.seq))
        if where == "fork":
            raise RequestRejected("fork", f"fork at {batch.seq}", seq=batch.seq)
        if where == "held":
            self.stored[batch.seq] = digest
            self.held[batch.seq] = body
            ack = PushReply(v=1, kiosk=kiosk, seq=batch.seq, hash=digest, status="held",
                            next_seq=self.state.next_seq, feed=0, server_time=self.clock())
            return self.reply(202, ack)
        if where == "apply":
            self.apply(batch, digest)
            while self.state.next_seq in self.held:  # a filled gap releases held batches
                held = self.held.pop(self.state.next_seq)
                self.apply(parse_batch(held, kiosk), codec.digest(held))
        ack = PushReply(v=1, kiosk=kiosk, seq=batch.seq, hash=digest, status="applied" if where == "apply" else "duplicate",
                        next_seq=self.state.next_seq, feed=self.acks[batch.seq], server_time=self.clock())
        if self.lose_replies:
            self.lose_replies -= 1
            raise httpx.ReadTimeout("reply lost", request=request)
        return self.reply(200, ack)

    def apply(self, batch: Batch, digest: str) -> None:
        for ev in batch.events:
            sign, target = (-1, self.events[ev.target]) if isinstance(ev, Void) else (1, ev)
            postings, moves = effects(target, SHOP)
            for p in postings:
                if p.account.startswith("resident:"):
                    card = p.account.split(":", 1)[1]
                    self.set_balance(card, self.balances.get(card, 0) + sign * p.amount)
            for m in moves:
                self.set_stock(m.sku, self.stock.get(m.sku, 0) + sign * m.delta)
            self.events[ev.id] = ev
        self.stored[batch.seq] = digest
        self.acks[batch.seq] = self.feed_seq
        self.state = ChainState(batch.seq + 1, digest, batch.events[-1].kseq + 1)

    def pull(self, kiosk: str, body: bytes, signature: str) -> httpx.Response:
        verify(self.kiosk_keys[kiosk], "pull", body, signature)
        req = codec.decode(body, PullRequest)
        self.nonces.append(req.nonce)
        rows = sorted((seq, kind, key, data) for (kind, key), (seq, scope, data) in self.feed.items()
                      if seq > req.cursor and scope in ("", SHOP))
        page_rows = rows[: req.limit]
        changes = [Change(kind=k, key=key, seq=s, data=None if d is None else msgspec.Raw(d)) for s, k, key, d in page_rows]
        now = self.clock()
        page = PullPage(
            v=1, kiosk=kiosk, nonce="0" * 32 if self.wrong_nonce else req.nonce, cursor=req.cursor,
            next=page_rows[-1][0] if page_rows else req.cursor, more=len(rows) > req.limit, server_time=now,
            revoked=self.revoked, policy=self.policy,
            lease=None if self.revoked else Lease(kiosk=kiosk, issued=now, seconds=self.policy.lease_seconds),
            changes=changes)
        return self.reply(200, page, tamper=self.tamper_pages)
