"""The kiosk's headless core: every use case the CLI, the Textual app and the tests call.

Recording never touches the network: each ``award``/``redeem``/``void``/``stock_in``
checks its input against the mirror and appends ONE immutable event in ONE transaction,
returning the event id only after the commit. ``sync`` is the only call that goes out.
Time comes from an injected ``clock`` (UTC ms) so tests can fix it. Imports no Textual.
"""

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import msgspec

from kiosk import errors as E
from kiosk import tls
from kiosk.client import Client
from kiosk.keys import create_key, load_key, promote_key
from kiosk.pending import decode_event, points_delta, stock_delta
from kiosk.settings import Settings
from kiosk.store import Store
from kiosk.syncing import Round, SyncResult
from schema.types import Card, Code, EventId, OperatorId, Qty, Text
from schema.wire import Award, EnrollCode, Item, Policy, Redeem, StockIn, StockLine, Void
from sync import codec, kinds
from sync.batch import event_id
from sync.calendar import day_bounds, local_day, local_month, month_bounds
from sync.policy import DEFAULT_POLICY, LeaseState, check_redeem, is_offline_mode, lease_remaining
from sync.protocol import MAX_ITEMS_PER_EVENT
from sync.signing import VerifyKey

MAX_TOTAL = 1_000_000


def system_clock() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Balance:
    card: str
    confirmed: int  # the server's balance as last pulled
    pending: int  # this kiosk's events the server's figure does not include yet
    available: int  # confirmed + pending: what may be spent here now


def _valid(value: Any, type_: Any, what: str) -> Any:
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError:
        raise E.InvalidInput(what=what, value=str(value)[:60]) from None


class KioskService:
    def __init__(self, settings: Settings, *, clock: Callable[[], int] = system_clock,
                 transport: httpx.BaseTransport | None = None, nonce: Callable[[], str] | None = None):
        self.settings = settings
        self.clock = clock
        self.store = Store(settings.db_path)
        self._transport = transport
        self._nonce = nonce

    def close(self) -> None:
        if getattr(self, "_client", None) is not None:
            self._client.close()
            self._client = None
        self.store.close()

    # ------------------------------------------------------------ identity

    @property
    def kiosk_id(self) -> str | None:
        return self.store.meta("kiosk_id")

    @property
    def shop(self) -> str | None:
        return self.store.meta("shop")

    def enroll(self, server_url: str, code: str, *, server_key: str | None = None, seed: bytes | None = None,
               ca: str | None = None, insecure_http: bool = False) -> dict:
        """Make a key pair here, present the public key with the code, pin the server key
        and, over https, the server's certificate (or the CA in ``ca``, PEM text).
        ``seed`` is for tests only."""
        if self.kiosk_id:
            raise E.AlreadyEnrolled(kiosk=self.kiosk_id)
        code = _valid(code.strip().upper(), EnrollCode, "enrolment code")
        if self._transport is None:  # an injected transport (tests) never dials the URL
            tls.check_url(server_url, insecure_http)
        pin, mode = (ca, "ca") if ca else (None, None)
        if pin is None and server_url.lower().startswith("https:") and self._transport is None:
            pin, mode = tls.fetch_certificate(server_url, self.settings.timeout), "pin"
        path = self.settings.key_path
        key = load_key(path) if path.exists() else create_key(path, seed)
        with Client(server_url, key, server_key=server_key, timeout=self.settings.timeout, transport=self._transport,
                    verify=tls.context(pin, mode) if pin else True) as client:
            reply = client.enroll(code, self.settings.label, server_key)
        now = self.clock()
        self.store.set_meta(kiosk_id=reply.kiosk, shop=reply.shop, shop_name=reply.shop_name, server_url=server_url,
                            server_key=reply.server_key, enrolled_at=now, cursor=0, revoked=False, reachable=True,
                            clock_high_water=now, tls_pin=pin, tls_mode=mode, insecure_http=insecure_http)
        return {"kiosk": reply.kiosk, "shop": reply.shop, "shop_name": reply.shop_name,
                "server_key": reply.server_key, "fingerprint": VerifyKey(reply.server_key).fingerprint()}

    # ------------------------------------------------------------ key rotation

    def rotate_key(self, code: str | None = None, *, seed: bytes | None = None) -> dict:
        """Replace this kiosk's key. Without ``code``: ask the server to take a new key
        from the next batch on (``POST /v1/rotate``, signed by the old key). With ``code``
        (central staff retired the old key): re-enrol the new key under this kiosk's id.

        The new key waits in ``kiosk.key.new`` and the old one is kept as ``kiosk.key.old``
        until the server's verified reply; only then does ``kiosk.key`` change (one atomic
        rename). A crash in between leaves the rotation pending: the next ``sync`` asks again
        (a repeated request gets the same reply) and switches. ``seed`` is for tests only."""
        kiosk = self._require_enrolled()
        if self._revoked():
            raise E.KioskRevoked(kiosk=kiosk)
        if code is not None:
            code = _valid(code.strip().upper(), EnrollCode, "enrolment code")
        path = self.settings.key_path
        new_path, old_path = path.with_name(path.name + ".new"), path.with_name(path.name + ".old")
        retry = new_path.exists()
        if not retry:
            create_key(old_path, load_key(path).seed())
            create_key(new_path, seed)
            self.store.set_meta(rotate_from_seq=self.store.last_batch()[0] + 1)
        if code:
            self.store.set_meta(rotate_mode="code")
        # a retry first asks whether the server already took the new key (our own earlier
        # attempt may have got through, and a re-enrolment code works only once)
        return self._finish_rotation(code, ask_first=retry or not code)

    def _finish_rotation(self, code: str | None = None, ask_first: bool = True) -> dict:
        path = self.settings.key_path
        new_path, old_path = path.with_name(path.name + ".new"), path.with_name(path.name + ".old")
        kiosk, new, old = self.kiosk_id, load_key(new_path), load_key(path)
        from_seq = int(self.store.meta("rotate_from_seq") or self.store.last_batch()[0] + 1)
        pin = self.store.meta("tls_pin")
        attempts = (["rotate"] if ask_first else []) + (["enroll"] if code else [])
        for i, attempt in enumerate(attempts):
            try:
                with Client(self.store.meta("server_url"), new if attempt == "enroll" else old, kiosk=kiosk,
                            server_key=self.store.meta("server_key"), timeout=self.settings.timeout, transport=self._transport,
                            verify=tls.context(pin, self.store.meta("tls_mode") or "pin") if pin else True) as client:
                    if attempt == "enroll":
                        reply = client.enroll(code, self.settings.label, self.store.meta("server_key"))
                        if reply.kiosk != kiosk:
                            raise E.KioskError("rekey_wrong_kiosk", other=reply.kiosk, kiosk=kiosk)
                        from_seq = reply.key_from_seq
                    else:
                        reply = client.rotate(new, from_seq)
                        # the server names from_seq: ours, or (our key already taken) the one it holds
                        if (reply.kiosk, reply.public_key) != (kiosk, new.public_hex):
                            raise E.Offline("rotation reply does not match the request")
                        from_seq = reply.from_seq
                break
            except E.Rejected:
                if i + 1 < len(attempts):
                    continue
                # refused for good (not a network failure): forget the new key, keep the old
                new_path.unlink(missing_ok=True)
                old_path.unlink(missing_ok=True)
                self.store.set_meta(rotate_from_seq=None, rotate_mode=None)
                raise
        promote_key(new_path, path)
        forced = self.store.meta("rotate_mode") == "code"
        with self.store.transaction():
            # batches the old key signed at or past from_seq (none, unless built meanwhile or
            # after a forced re-key) were never accepted: rebuilt and signed with the new key
            self.store.discard_batches_from(from_seq)
            self.store.set_meta(rotate_from_seq=None, rotate_mode=None, **({"stopped_reason": None} if forced else {}))
        old_path.unlink(missing_ok=True)
        return {"kiosk": kiosk, "from_seq": from_seq, "public_key": new.public_hex, "fingerprint": VerifyKey(new.public_hex).fingerprint()}

    def rotation_pending(self) -> bool:
        path = self.settings.key_path
        return path.with_name(path.name + ".new").exists()

    # ------------------------------------------------------------ recording

    def award(self, card: str, rule: str, operator: str, note: str = "") -> str:
        """Award (or, for a prohibited-conduct rule, deduct) the rule's own points."""
        card, rule, note = _valid(card, Card, "card"), _valid(rule, Code, "rule"), _valid(note, Text, "note")
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
            ev = self.store.append_event(lambda kseq: Award(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator,
                resident=card, rule=rule, points=row["points"], note=note))
        return ev.id

    def redeem(self, card: str, items: list[tuple[str, int]], operator: str) -> str:
        """Hand out goods for points, if balance, stock, lease and offline cap allow."""
        card = _valid(card, Card, "card")
        lines = self._lines(items)
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            self._active_resident(card)
            priced = [Item(sku=sku, qty=qty, price=self._active_good(sku)["price"]) for sku, qty in lines]
            total = sum(i.qty * i.price for i in priced)
            if total > MAX_TOTAL:
                raise E.InvalidInput(what="total", value=str(total))
            now = self._tick()
            decision = check_redeem(
                total=total, available=self.balance(card).available, lease=self._lease(), now=now,
                offline=self._offline(now), redeemed_today=self._redeemed_today(card, now),
                policy=self.policy(), revoked=self._revoked())
            if not decision.ok:
                raise E.RedeemRefused(decision.reason, card=card, **(decision.detail or {}))
            stock = self.stock_available()
            for item in priced:
                if item.qty > stock.get(item.sku, 0):
                    raise E.InsufficientStock(sku=item.sku, available=stock.get(item.sku, 0), wanted=item.qty)
            ev = self.store.append_event(lambda kseq: Redeem(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator,
                resident=card, items=priced, total=total))
        return ev.id

    def void(self, target: str, reason: str, operator: str) -> str:
        """Reverse one of this kiosk's own events; the original stays as recorded."""
        target = _valid(target, EventId, "event id")
        reason = _valid(reason.strip(), Text, "reason")
        if not reason:
            raise E.InvalidInput(what="reason", value="")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            row = self.store.event_row(target)
            if row is None or not target.startswith(kiosk + "-"):
                raise E.VoidRefused("void_unknown", event=target)
            if kinds.lookup(row["kind"]).reverses:
                raise E.VoidRefused("void_of_void", event=target)
            if self.store.void_of(target):
                raise E.VoidRefused("void_repeated", event=target)
            now = self._tick()
            ev = self.store.append_event(lambda kseq: Void(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator, target=target, reason=reason),
                resident=row["resident"])
        return ev.id

    def stock_in(self, items: list[tuple[str, int]], operator: str, note: str = "") -> str:
        """Record goods delivered to this shop."""
        lines = self._lines(items)
        note = _valid(note, Text, "note")
        with self.store.transaction():
            kiosk, operator = self._recording_as(operator)
            for sku, _ in lines:
                self._active_good(sku)
            now = self._tick()
            ev = self.store.append_event(lambda kseq: StockIn(
                id=event_id(kiosk, kseq), kseq=kseq, at=now, operator=operator,
                items=[StockLine(sku=sku, qty=qty) for sku, qty in lines], note=note))
        return ev.id

    # ------------------------------------------------------------ queries

    def balance(self, card: str) -> Balance:
        card = _valid(card, Card, "card")
        confirmed = self.store.balance_points(card)
        events = [decode_event(r["body"]) for r in self.store.unreflected_events(resident=card)]
        pending = points_delta(events, self._lookup, card, self.shop or "")
        return Balance(card, confirmed, pending, confirmed + pending)

    def stock_available(self) -> dict[str, int]:
        """Mirrored stock of this shop plus this kiosk's pending moves, per SKU."""
        rows = self.store.unreflected_events(kinds=kinds.tags(moves_stock=True) + kinds.tags(reverses=True))
        delta = stock_delta([decode_event(r["body"]) for r in rows], self._lookup, self.shop or "")
        out = {g["sku"]: g["stock"] for g in self.store.goods()}
        for sku, d in delta.items():
            out[sku] = out.get(sku, 0) + d
        return out

    def find_resident(self, text: str, limit: int = 20) -> list[dict]:
        return self.store.find_residents(text.strip(), limit) if text.strip() else []

    def count_residents(self, text: str, cap: int = 1000) -> int:
        """How many residents ``find_resident`` would find with no limit, up to ``cap`` + 1
        (said when the list shown is cut)."""
        return self.store.count_residents(text.strip(), cap) if text.strip() else 0

    def resident(self, card: str) -> dict | None:
        return self.store.resident(card)

    def voidable(self, limit: int = 30) -> list[dict]:
        """This kiosk's newest events for the void screen, newest first: id, kind, at,
        operator, the resident (card and name, None for a delivery), how far the event moved
        their points, and the void that reversed it (``voided_by``), if any."""
        out = []
        for row in self.store.recent_events(limit):
            card = row["resident"]
            person = self.store.resident(card) if card else None
            points = points_delta([decode_event(row["body"])], self._lookup, card, self.shop or "") if card else None
            out.append({"id": row["id"], "kind": row["kind"], "at": row["at"], "operator": row["operator"],
                        "resident": card, "name": person["name"] if person else None, "points": points,
                        "voided_by": row["voided_by"]})
        return out

    def rules(self) -> list[dict]:
        return self.store.rules()

    def goods(self) -> list[dict]:
        stock = self.stock_available()
        return [{**g, "stock": stock.get(g["sku"], 0)} for g in self.store.goods()]

    def history(self, card: str, limit: int = 50) -> list[dict]:
        """This kiosk's events about a resident, newest first."""
        card = _valid(card, Card, "card")
        out = []
        for row in self.store.history(card, limit):
            ev = decode_event(row["body"])
            data = codec.to_builtins(ev)
            out.append({"id": ev.id, "kind": row["kind"], "at": ev.at, "operator": ev.operator,
                        "points": points_delta([ev], self._lookup, card, self.shop or ""),
                        "synced": row["acked_at"] is not None, "voided_by": row["voided_by"],
                        **{k: data[k] for k in ("rule", "items", "target", "reason", "note") if k in data}})
        return out

    def community_name(self, community: str) -> str:
        """The community's name from the mirror, or its id before the first pull."""
        row = self.store._one("SELECT name FROM communities WHERE id = ?", (community,))
        return row["name"] if row else community

    def rank(self, card: str) -> dict | None:
        """Where a resident stands on their community's newest public board pulled from
        the server (names masked), or None: no board yet, or not among its top lines."""
        resident = self.store.resident(_valid(card, Card, "card"))
        if resident is None:
            return None
        for board in self.store.boards_of(resident["community"])[:1]:
            for line in json.loads(board["top"]):
                if line["card"] == card:
                    return {"community": board["community"], "month": board["month"], "rank": line["rank"],
                            "points": line["points"], "name": line["name"], "ranked": board["ranked"],
                            "published": board["published"]}
        return None

    def offline_allowance(self, card: str) -> int | None:
        """Points this resident may still redeem here today under the offline floor limit;
        None while the kiosk is online (no such limit then). For the redeem screen."""
        now = self.clock()
        if not self._offline(now):
            return None
        return max(0, self.policy().offline_daily_cap - self._redeemed_today(_valid(card, Card, "card"), now))

    def policy(self) -> Policy:
        raw = self.store.meta("policy")
        return codec.decode(raw.encode(), Policy) if raw else DEFAULT_POLICY

    def status(self) -> dict:
        meta = self.store.all_meta()
        now = self.clock()
        lease = self._lease()
        return {
            "kiosk": meta.get("kiosk_id"), "shop": meta.get("shop"), "shop_name": meta.get("shop_name"),
            "server_url": meta.get("server_url"), "enrolled": bool(meta.get("kiosk_id")),
            "pending_events": self.store.unacked_event_count(),
            "last_push_at": _int(meta.get("last_push_at")), "last_pull_at": _int(meta.get("last_pull_at")),
            "last_attempt_at": _int(meta.get("last_attempt_at")),
            "reachable": meta.get("reachable") == "1",
            "offline_mode": self._offline(now),
            "lease_remaining_seconds": max(0, lease_remaining(lease, now) // 1000) if lease else 0,
            "revoked": meta.get("revoked") == "1", "stopped_reason": meta.get("stopped_reason"),
            "checkpoint_alert": meta.get("checkpoint_alert"),
            "cursor": _int(meta.get("cursor")) or 0, "schema_version": _int(meta.get("schema_version")),
        }

    # ------------------------------------------------------------ sync

    def sync(self) -> SyncResult:
        """Push pending events, then pull. Safe to interrupt anywhere and run again."""
        self._require_enrolled()
        if self.rotation_pending() and self.store.meta("rotate_from_seq"):
            try:  # a rotation interrupted before its reply: ask again (same reply), then switch
                self._finish_rotation()
            except E.Offline as exc:
                self.store.set_meta(reachable=False)
                return SyncResult(ok=False, problem="offline", detail={"why": exc.why})
            except E.Rejected as rej:
                return SyncResult(ok=False, problem="sync_fix_request", detail={"code": rej.code, "message": rej.message})
        stopped = self.store.meta("stopped_reason")
        if stopped:
            return SyncResult(ok=False, problem="sync_stopped", detail={"reason": stopped})
        key = load_key(self.settings.key_path)
        client = self._sync_client(key)
        # The round's clock is the plain clock: each page stores the clock high-water mark
        # with the cursor, so ticking it (one more fsync'd commit per reading) buys nothing.
        return Round(self.store, client, key, self.clock, self.settings.batch_events,
                     self.settings.pull_limit, self._nonce).run()

    def _sync_client(self, key) -> Client:
        """One HTTP client kept between rounds: making one loads the CA bundle (about
        18 ms) and a kept connection saves a TCP handshake, on every background sync."""
        ident = (self.store.meta("server_url"), self.store.meta("server_key"), self.kiosk_id, key.public_hex,
                 self.settings.timeout, id(self._transport), self.store.meta("tls_pin"), self.store.meta("insecure_http"))
        if self._transport is None:
            tls.check_url(ident[0], ident[7] == "1")
        if getattr(self, "_client_ident", None) != ident:
            if getattr(self, "_client", None) is not None:
                self._client.close()
            pin = ident[6]
            self._client = Client(ident[0], key, kiosk=ident[2], server_key=ident[1], timeout=self.settings.timeout,
                                  transport=self._transport,
                                  verify=tls.context(pin, self.store.meta("tls_mode") or "pin") if pin else True)
            self._client_ident = ident
        return self._client

    def resume(self) -> None:
        """Clear a stop after staff have dealt with its cause (not a revocation)."""
        if not self._revoked():
            self.store.set_meta(stopped_reason=None)

    # ------------------------------------------------------------ helpers

    def _tick(self) -> int:
        """Now, remembering the latest reading so a clock wound back cannot stretch a lease."""
        now = self.clock()
        high = int(self.store.meta("clock_high_water") or 0)
        if now > high:
            self.store.set_meta(clock_high_water=now)
        return now

    def _require_enrolled(self) -> str:
        kiosk = self.kiosk_id
        if not kiosk:
            raise E.NotEnrolled()
        return kiosk

    def _revoked(self) -> bool:
        return self.store.meta("revoked") == "1"

    def _recording_as(self, operator: str) -> tuple[str, str]:
        kiosk = self._require_enrolled()
        if self._revoked():
            raise E.KioskRevoked(kiosk=kiosk)
        operator = _valid(operator, OperatorId, "operator")
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
            sku = _valid(sku, Code, "SKU")
            merged[sku] = merged.get(sku, 0) + _valid(qty, int, "quantity")
        if not merged or len(merged) > MAX_ITEMS_PER_EVENT:
            raise E.InvalidInput(what="items", value=str(len(merged)))
        return [(sku, _valid(qty, Qty, f"quantity of {sku}")) for sku, qty in merged.items()]

    def _lookup(self, event: str):
        row = self.store.event_row(event)
        return decode_event(row["body"]) if row else None

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

    def _lease(self) -> LeaseState | None:
        raw = self.store.meta("lease")
        if not raw:
            return None
        return LeaseState(seconds=json.loads(raw)["seconds"], received_local=int(self.store.meta("lease_received_local") or 0),
                          high_water=int(self.store.meta("clock_high_water") or 0))

    def _offline(self, now: int) -> bool:
        return is_offline_mode(self.store.meta("reachable") == "1", _int(self.store.meta("last_pull_at")), now, self.policy())

    def _redeemed_today(self, card: str, now: int) -> int:
        start, end = day_bounds(local_day(now))
        return sum(decode_event(r["body"]).total for r in self.store.events_between(card, start, end, "redeem")
                   if not self.store.void_of(r["id"]))


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def balance_dict(balance: Balance) -> dict:
    return asdict(balance)
