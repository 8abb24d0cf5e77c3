"""Recording: award, redeem, void, stock-in, a resident's letter, request or rating
(``voice``, ``voice_rating``) and a volunteer task's claim and completion (``task_claim``,
``task_done``), each one check-then-append in ONE store
transaction, and the figures those checks decide by (balance, stock, lease, offline cap).

Recording never touches the network. Each use case checks its input against the mirror
and appends one immutable event; what the receipt shows (the event, the names it prints
and, with ``receipt=True``, the resident's points before and after) is read inside the
same transaction and returned as a frozen ``Recorded``, so a sync landing between
"recorded" and "receipt" cannot make the two disagree. The points cost a walk over the
resident's pending events, so only a caller that prints a receipt asks for them: a bulk
load of thousands of offline events must not pay that walk on every one. Time comes from
an injected ``clock`` (UTC ms). Imports no Textual.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kiosk import errors as E
from kiosk.pending import decode_event, points_delta, stock_delta
from kiosk.store import Store
from schema.types import Card, Code, EventId, OperatorId, Qty, Stars, Text, VoiceText
from schema.wire import (Award, Item, KioskEvent, Policy, Redeem, ShiftClose, StockCount, StockIn, StockLine, TaskClaim, TaskDone,
                         Void, Voice, VoiceRating)
from sync import codec, kinds, tracking
from sync.kinds.voice import CATEGORIES, CHANNELS, text_problem
from sync.kinds.voice_rating import refused
from sync.kinds import task_claim, task_done
from sync.postings import TaskInfo, VoiceInfo
from sync import receipt as sync_receipt
from sync.batch import event_id
from sync.clock import record_time
from sync.calendar import day_bounds, local_day, local_month, month_bounds
from sync.policy import DEFAULT_POLICY, LeaseState, check_redeem, is_offline_mode
from sync.protocol import BASE_EVENT_KINDS, MAX_ITEMS_PER_EVENT
from sync.signing import SigningKey

MAX_TOTAL = 1_000_000


@dataclass(frozen=True)
class Balance:
    """A resident's points here and how far this kiosk's own events about them have got:
    ``unsynced`` still in the outbox (not acknowledged), ``unconfirmed`` acknowledged by the
    server (durable, counted once) but not yet in the balance pulled (projected and
    confirmed: docs/PROTOCOL.md § 4.8). ``state`` is the furthest behind of them."""

    card: str
    confirmed: int  # the server's balance as last pulled
    pending: int  # this kiosk's events the server's figure does not include yet
    available: int  # confirmed + pending: what may be spent here now
    unsynced: int = 0  # events of this resident not yet acknowledged
    unconfirmed: int = 0  # events of this resident acknowledged, not yet confirmed

    @property
    def state(self) -> str:
        """``pending`` (some not acknowledged), ``acked`` (all acknowledged, some not
        confirmed) or ``confirmed`` (every event of this resident this kiosk recorded is in
        the balance pulled)."""
        return "pending" if self.unsynced else "acked" if self.unconfirmed else "confirmed"


@dataclass(frozen=True)
class Recorded:
    """One committed event and what its receipt shows, as read inside the transaction that
    recorded it."""

    event: KioskEvent
    kind: str  # the event's tag in ``sync.kinds``
    kiosk: str
    shop_name: str
    resident: str | None = None  # the card it is stored under (a void: its target's)
    resident_name: str | None = None
    before: int | None = None  # the resident's available points before and after it
    after: int | None = None  # (both None without ``receipt=True``, or without a resident)
    #: ("rule" | "good", code) -> the name this kiosk mirrors, for each code its receipt names
    names: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: the check page's address carrying the signed receipt payload (``sync.receipt``): the QR
    #: code and the receipt file's last line; None without ``receipt=True``
    link: str | None = None

    @property
    def id(self) -> str:
        return self.event.id


def valid(value: Any, type_: Any, what: str) -> Any:
    """``value`` as ``type_``, or ``InvalidInput`` naming ``what``."""
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError:
        raise E.InvalidInput(what=what, value=str(value)[:60]) from None


class Recorder:
    def __init__(self, store: Store, clock: Callable[[], int], key: Callable[[], SigningKey] | None = None,
                 check_url: str | None = None):
        """``key``: the kiosk's signing key (read when a receipt is signed, so a rotation
        takes effect at once); ``check_url``: the public check page printed on receipts
        (default: the server's ``/check``)."""
        self.store = store
        self.clock = clock
        self.key = key
        self.check_url = check_url

    # ------------------------------------------------------------ recording

    def award(self, card: str, rule: str, operator: str, note: str = "", *, receipt: bool = False) -> Recorded:
        """Award (or, for a prohibited-conduct rule, deduct) the rule's own points."""
        card, rule, note = valid(card, Card, "card"), valid(rule, Code, "rule"), valid(note, Text, "note")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            self._active_resident(card)
            row = self.store.rule(rule)
            if row is None:
                raise E.UnknownRule(rule=rule)
            if row["status"] != "active":
                raise E.RuleRetired(rule=rule)
            now = self._tick()
            self._check_caps(card, row, now)
            return self._append(lambda kseq: Award(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator,
                resident=card, rule=rule, points=row["points"], note=note), kiosk, card, receipt)

    def redeem(self, card: str, items: list[tuple[str, int]], operator: str, *, receipt: bool = False) -> Recorded:
        """Hand out goods for points, if balance, stock, lease and offline cap allow."""
        card = valid(card, Card, "card")
        lines = self._lines(items)
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            self._active_resident(card)
            priced = [Item(sku=sku, qty=qty, price=self._active_good(sku)["price"]) for sku, qty in lines]
            total = sum(i.qty * i.price for i in priced)
            if total > MAX_TOTAL:
                raise E.InvalidInput(what="total", value=str(total))
            now = self._tick()
            available = self.balance(card).available
            decision = check_redeem(
                total=total, available=available, lease=self.lease(), now=now,
                offline=self.offline(now), redeemed_today=self.redeemed_today(card, now),
                policy=self.policy(), revoked=self._revoked(), clock_wrong=self.store.meta("clock_wrong") is not None)
            if not decision.ok:
                raise E.RedeemRefused(decision.reason, card=card, **(decision.detail or {}))
            stock = self.stock_available()
            for item in priced:
                if item.qty > stock.get(item.sku, 0):
                    raise E.InsufficientStock(sku=item.sku, available=stock.get(item.sku, 0), wanted=item.qty)
            return self._append(lambda kseq: Redeem(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator,
                resident=card, items=priced, total=total), kiosk, card, receipt, before=available)

    def void(self, target: str, reason: str, operator: str, *, receipt: bool = False) -> Recorded:
        """Reverse one of this kiosk's own events; the original stays as recorded."""
        target = valid(target, EventId, "event id")
        reason = valid(reason.strip(), Text, "reason")
        if not reason:
            raise E.InvalidInput(what="reason", value="")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            row = self.store.event_row(target)
            if row is None or not target.startswith(kiosk + "-") or not kinds.lookup(row["kind"]).voidable:
                raise E.VoidRefused("void_unknown", event=target)
            if kinds.lookup(row["kind"]).reverses:
                raise E.VoidRefused("void_of_void", event=target)
            if self.store.void_of(target):
                raise E.VoidRefused("void_repeated", event=target)
            now = self._tick()
            return self._append(lambda kseq: Void(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator, target=target, reason=reason),
                kiosk, row["resident"], receipt)

    def stock_in(self, items: list[tuple[str, int]], operator: str, note: str = "", *, receipt: bool = False) -> Recorded:
        """Record goods delivered to this shop."""
        lines = self._lines(items)
        note = valid(note, Text, "note")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            for sku, _ in lines:
                self._active_good(sku)
            now = self._tick()
            return self._append(lambda kseq: StockIn(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator,
                items=[StockLine(sku=sku, qty=qty) for sku, qty in lines], note=note), kiosk, None, receipt)

    def shift_close(self, report, operator: str) -> Recorded | None:
        """The shift report (``kiosk.shift.ShiftReport``) as an event for central staff: the
        counted and expected stock per SKU and the shift's totals. Only when the server's
        ``accepts`` row names ``shift_close``: an event the server cannot take would hold
        every later one back (events are gap-free), so without it the report stays local."""
        if not self.accepts("shift_close"):
            return None
        ops = report.per_operator.values()
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            now = self._tick()
            return self._append(lambda kseq: ShiftClose(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator, first_kseq=min(report.first_kseq, kseq),
                events=sum(o.events for o in ops), awarded=sum(o.awarded for o in ops),
                deducted=sum(o.deducted for o in ops), redeemed=sum(o.redeemed for o in ops),
                counts=[StockCount(sku=sku, expected=expected, counted=counted) for sku, expected, counted in report.stock]),
                kiosk, None, False)

    def voice(self, card: str, channel: str, category: str, text: str, operator: str, *,
              receipt: bool = False) -> Recorded:
        """A resident's letter to the secretary (``letter``, 书记信箱) or request (``request``,
        村民说事), in the resident's words; its tracking code (``sync.tracking``) follows from
        the event, so the slip needs no server. Only when the server accepts the kind."""
        card = valid(card, Card, "card")
        if channel not in CHANNELS:
            raise E.InvalidInput(what="channel", value=str(channel)[:20])
        if category not in CATEGORIES:
            raise E.InvalidInput(what="category", value=str(category)[:20])
        text = valid(str(text).strip(), VoiceText, "text")
        if text_problem(text):
            raise E.InvalidInput(what="text", value=text[:20])
        if not self.accepts("voice"):
            raise E.VoiceRefused("voice_not_accepted")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            self._active_resident(card)
            now = self._tick()
            return self._append(lambda kseq: Voice(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator, resident=card, channel=channel,
                category=category, text=text, code=tracking.tracking_code(kiosk, kseq)), kiosk, card, receipt, points=False)

    def rate_voice(self, card: str, code: str, stars: int, operator: str, *, receipt: bool = False) -> Recorded:
        """The resident's 1-5 stars for their done letter or request, once: refused when this
        kiosk knows it is another's, not done, or rated (the server counts only the first)."""
        card = valid(card, Card, "card")
        code = tracking_or_error(code)
        stars = valid(stars, Stars, "stars")
        if not self.accepts("voice_rating"):
            raise E.VoiceRefused("voice_not_accepted")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            self._active_resident(card)
            reason = self.rating_refusal(card, code)
            if reason is not None:
                raise E.VoiceRefused("voice_" + reason, code=code)
            now = self._tick()
            return self._append(lambda kseq: VoiceRating(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator, resident=card, code=code, stars=stars),
                kiosk, card, receipt, points=False)

    def rating_refusal(self, card: str, code: str) -> str | None:
        """Why ``card`` may not rate ``code`` here (``sync.kinds.voice_rating.refused``'s
        reasons), as far as this kiosk knows: its mirror of ``voice_reply``, and its own
        letters and ratings the server has not reflected yet."""
        pending = [decode_event(r["body"]) for r in self.store.unreflected_events(kinds=("voice", "voice_rating"))]
        if any(isinstance(ev, VoiceRating) and ev.code == code for ev in pending):
            return "rated"
        row = self.store.voice_item(code)
        if row is None:
            mine = next((ev for ev in pending if isinstance(ev, Voice) and ev.code == code), None)
            return refused(VoiceInfo(mine.resident, "open", None) if mine else None, card)
        return refused(VoiceInfo(row["resident"], row["status"], row["stars"]), card)

    def claim_task(self, card: str, task: str, operator: str, *, receipt: bool = False) -> Recorded:
        """The resident takes on a volunteer task of their community: refused when this
        kiosk knows the task is unknown, closed, full, another community's, or theirs already."""
        card, task = valid(card, Card, "card"), valid(str(task).strip().upper(), Code, "task")
        if not self.accepts("task_claim"):
            raise E.TaskRefused("task_not_accepted")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            self._active_resident(card)
            reason = self.task_refusal(card, task, "claim")
            if reason is not None:
                raise E.TaskRefused("task_" + reason, task=task)
            now = self._tick()
            return self._append(lambda kseq: TaskClaim(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator, resident=card, task=task),
                kiosk, card, receipt, points=False)

    def finish_task(self, card: str, task: str, operator: str, *, receipt: bool = False) -> Recorded:
        """The station records the resident's claimed task done; the award is the task's own
        rule and points, as this kiosk mirrors them, under the resident's claim."""
        card, task = valid(card, Card, "card"), valid(str(task).strip().upper(), Code, "task")
        if not self.accepts("task_done"):
            raise E.TaskRefused("task_not_accepted")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            self._active_resident(card)
            reason = self.task_refusal(card, task, "done")
            if reason is not None:
                raise E.TaskRefused("task_" + reason, task=task)
            info, row = self.task_state(task)
            claim = next(c for c, (who, _) in info.claims.items() if who == card)
            now = self._tick()
            return self._append(lambda kseq: TaskDone(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator, resident=card, task=task, claim=claim,
                rule=row["rule"], points=row["points"]), kiosk, card, receipt)

    def task_refusal(self, card: str, task: str, what: str) -> str | None:
        """Why a ``claim`` or a ``done`` of ``task`` for ``card`` would not count, as far as
        this kiosk knows (``sync.kinds.task_claim.refused``, ``sync.kinds.task_done.refused``)."""
        info, row = self.task_state(task)
        if what == "claim":
            resident = self.store.resident(card) or {}
            return task_claim.refused(info, card, resident.get("community"), 0)
        claim = next((c for c, (who, _) in (info.claims if info else {}).items() if who == card), None)
        return task_done.refused(info, card, claim or "", row["rule"] if row else "", row["points"] if row else 0)

    def task_state(self, task: str) -> tuple[TaskInfo | None, dict | None]:
        """A task as this kiosk knows it: the server's feed row, and this kiosk's own claims
        and completions of it the server has not reflected yet."""
        row = self.store.task(task)
        if row is None:
            return None, None
        claims = {c["event"]: (c["card"], "done" if c["done"] else None) for c in row["claims"]}
        for r in self.store.unreflected_events(kinds=("task_claim", "task_done")):
            ev = decode_event(r["body"])
            if ev.task != task:
                continue
            if isinstance(ev, TaskClaim):
                claims.setdefault(ev.id, (ev.resident, None))
            elif ev.claim in claims:
                claims[ev.claim] = (claims[ev.claim][0], ev.id)
        closed = 0 if row["status"] == "closed" else None
        return TaskInfo(row["community"], row["rule"], row["points"], row["slots"], closed, claims), row

    def accepts(self, kind: str) -> bool:
        """Whether the server's ``accepts`` row names ``kind``: an event the server cannot take
        would hold every later one back (events are gap-free)."""
        raw = self.store.meta("accepted_kinds")
        return kind in (json.loads(raw) if raw else BASE_EVENT_KINDS)

    def _append(self, make: Callable[[int], KioskEvent], kiosk: str, resident: str | None, receipt: bool,
                before: int | None = None, points: bool = True) -> Recorded:
        """Append the event (inside the caller's transaction) and read what its receipt shows.
        ``resident``: the card it is stored under, for a kind that names none itself;
        ``before``: its available points, if the caller already has them; ``points``: whether
        the receipt shows the resident's points (a letter's slip does not)."""
        points = points and receipt and resident is not None
        if points and before is None:
            before = self.balance(resident).available
        ev = self.store.append_event(make, resident=resident)
        tag = kinds.tag_of(ev)
        names: dict[tuple[str, str], str] = {}
        for line in kinds.lookup(tag).receipt(ev).lines:
            what, code = line.name
            row = self.store.rule(code) if what == "rule" else self.store.good(code) if what == "good" else None
            if row is not None:
                names[line.name] = row["name"]
        return Recorded(
            event=ev, kind=tag, kiosk=kiosk, shop_name=self.store.meta("shop_name") or self.shop or "",
            resident=resident, resident_name=(self.store.resident(resident) or {}).get("name") if resident else None,
            before=before if points else None,
            # the balance is a sum over pending events, so the new event adds exactly its own delta
            after=before + points_delta([ev], self.lookup, resident, self.shop or "") if points else None,
            names=names, link=self._receipt_link(kiosk, ev) if receipt else None)

    def _receipt_link(self, kiosk: str, ev: KioskEvent) -> str | None:
        """The signed receipt payload on the check page's address (``sync.receipt``), signed
        inside the recording transaction. Its seq is the batch the key signs next: the next
        batch, or while a rotation waits for the server, the batch the new key takes over."""
        if self.key is None:
            return None
        seq = self.store.last_batch()[0] + 1
        waiting = self.store.meta("rotate_from_seq")
        if waiting:
            seq = min(seq, int(waiting))
        signed = sync_receipt.sign(self.key(), kiosk, seq, codec.encode(ev))
        url = self.check_url or (self.store.meta("server_url") or "").rstrip("/") + "/check"
        return sync_receipt.link(url, sync_receipt.encode(signed))

    # ------------------------------------------------------------ the figures recording decides by

    @property
    def shop(self) -> str | None:
        return self.store.meta("shop")

    def balance(self, card: str) -> Balance:
        card = valid(card, Card, "card")
        # a visitor (looked up online, not mirrored): the server's balance at the feed
        # position it was read at, and this kiosk's events the server had not applied by then
        visitor = self.store.visitor(card)
        confirmed = visitor["points"] if visitor else self.store.balance_points(card)
        rows = self.store.unreflected_events(resident=card, feed=visitor["feed"] if visitor else None)
        events = [decode_event(r["body"]) for r in rows]
        pending = points_delta(events, self.lookup, card, self.shop or "")
        # of those, the ones not acknowledged (unbatched, or in a batch still to push); the rest
        # are acknowledged and not yet in the balance pulled
        unacked = self.store.unacked_batch_seqs()
        unsynced = sum(1 for r in rows if r["batch_seq"] is None or r["batch_seq"] in unacked)
        return Balance(card, confirmed, pending, confirmed + pending, unsynced, len(rows) - unsynced)

    def stock_available(self) -> dict[str, int]:
        """Mirrored stock of this shop plus this kiosk's pending moves, per SKU."""
        rows = self.store.unreflected_events(kinds=kinds.tags(moves_stock=True) + kinds.tags(reverses=True))
        delta = stock_delta([decode_event(r["body"]) for r in rows], self.lookup, self.shop or "")
        out = {g["sku"]: g["stock"] for g in self.store.goods()}
        for sku, d in delta.items():
            out[sku] = out.get(sku, 0) + d
        return out

    def policy(self) -> Policy:
        raw = self.store.meta("policy")
        return codec.decode(raw.encode(), Policy) if raw else DEFAULT_POLICY

    def lease(self) -> LeaseState | None:
        raw = self.store.meta("lease")
        if not raw:
            return None
        return LeaseState(seconds=json.loads(raw)["seconds"], received_local=int(self.store.meta("lease_received_local") or 0),
                          high_water=int(self.store.meta("clock_high_water") or 0))

    def offline(self, now: int) -> bool:
        last_pull = self.store.meta("last_pull_at")
        return is_offline_mode(self.store.meta("reachable") == "1", int(last_pull) if last_pull else None, now, self.policy())

    def redeemed_today(self, card: str, now: int) -> int:
        start, end = day_bounds(local_day(now))
        return sum(decode_event(r["body"]).total for r in self.store.events_between(card, start, end, "redeem")
                   if not self.store.void_of(r["id"]))

    def lookup(self, event: str) -> KioskEvent | None:
        """One of this kiosk's events by id (what a void's effects are read from)."""
        row = self.store.event_row(event)
        return decode_event(row["body"]) if row else None

    # ------------------------------------------------------------ checks

    def _tick(self) -> int:
        """The time to record at (``sync.clock.record_time``: the clock reading, or the best
        known time when the clock is far wrong, flagging the kiosk), remembering the latest
        reading so a clock wound back cannot stretch a lease."""
        reading = self.clock()
        chosen = record_time(reading, _int(self.store.meta("server_time_seen")), self.store.last_event_at())
        high = int(self.store.meta("clock_high_water") or 0)
        flag = json.dumps({"reading": reading, "at": chosen.at, "why": chosen.wrong}) if chosen.wrong else None
        if chosen.at > high or flag != self.store.meta("clock_wrong"):
            self.store.set_meta(clock_high_water=max(high, chosen.at), clock_wrong=flag)
        return chosen.at

    def _revoked(self) -> bool:
        return self.store.meta("revoked") == "1"

    def _recording_as(self, operator: str) -> tuple[str, str]:
        kiosk = self.store.meta("kiosk_id")
        if not kiosk:
            raise E.NotEnrolled()
        if self._revoked():
            raise E.KioskRevoked(kiosk=kiosk)
        operator = valid(operator, OperatorId, "operator")
        row = self.store.operator(operator)
        if row is None:
            raise E.UnknownOperator(operator=operator)
        if row["status"] != "active":
            raise E.OperatorRetired(operator=operator)
        return kiosk, operator

    def _active_resident(self, card: str) -> dict:
        row = self.store.resident(card)
        if row is None:
            raise E.UnknownResident(card=card)
        if row["status"] != "active":
            raise E.ResidentRetired(card=card)
        return row

    def _active_good(self, sku: str) -> dict:
        row = self.store.good(sku)
        if row is None:
            raise E.UnknownSku(sku=sku)
        if row["status"] != "active":
            raise E.SkuRetired(sku=sku)
        return row

    def _lines(self, items: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Validated lines, the same SKU given twice merged into one line."""
        merged: dict[str, int] = {}
        for sku, qty in items:
            sku = valid(sku, Code, "SKU")
            merged[sku] = merged.get(sku, 0) + valid(qty, int, "quantity")
        if not merged or len(merged) > MAX_ITEMS_PER_EVENT:
            raise E.InvalidInput(what="items", value=str(len(merged)))
        return [(sku, valid(qty, Qty, f"quantity of {sku}")) for sku, qty in merged.items()]

    def _check_caps(self, card: str, rule: dict, now: int) -> None:
        """Refuse an award past the rule's per-day or per-month cap, counting what this kiosk
        recorded (not voided). Awards on other offline kiosks are the server's to review."""
        for cap, bounds, period in (
            (rule["cap_day"], day_bounds(local_day(now)), "day"),
            (rule["cap_month"], month_bounds(local_month(now)), "month"),
        ):
            if cap is None:
                continue
            done = sum(
                1
                for e in self.store.events_between(card, bounds[0], bounds[1], "award")
                if decode_event(e["body"]).rule == rule["code"] and self.store.void_of(e["id"]) is None
            )
            if done >= cap:
                raise E.CapReached(f"cap_reached_{period}", rule=rule["code"], cap=cap)


def tracking_or_error(text: str) -> str:
    """``sync.tracking.normalise`` for the kiosk: ``BadCode`` in the operator's words."""
    try:
        return tracking.normalise(text)
    except tracking.InvalidTracking as exc:
        raise E.BadCode("tracking", exc.value) from None


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None
