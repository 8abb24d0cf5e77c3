"""The kiosk's headless core: the one facade the CLI, the Textual app and the tests call.

It composes the concerns, each in its own module, over one kiosk database: recording
(``kiosk.recording``: award, redeem, void, stock-in, each ONE transaction that returns a
``Recorded``), enrolment and key rotation with the one HTTP client factory
(``kiosk.enrolment``), the sync round (``kiosk.syncing``), sign-in (``kiosk.counter``) and
the online lookup and history (``kiosk.online``);
the read-only queries the screens show live here. Screens and helpers ask this facade and
never reach into its store. Recording never touches the network; ``sync``, ``probe`` and the
online lookup and history are the only calls that go out. Time comes from an injected ``clock`` (UTC ms). Imports no Textual.
"""

import json
import time
from collections.abc import Callable
from dataclasses import asdict

import httpx

from kiosk import errors as E
from kiosk.counter import Counter
from kiosk.enrolment import Enrolment
from kiosk.keys import load_key, load_or_create_pepper
from kiosk.online import History, Online
from kiosk.pending import decode_event, points_delta
from kiosk.recording import Balance, Recorded, Recorder, valid
from kiosk.settings import Settings
from kiosk.store import Store
from kiosk.syncing import Round, SyncResult
from schema.types import Card
from schema.wire import KioskEvent, Policy
from sync import codec, kinds
from sync.board import board_name
from sync.policy import lease_remaining

__all__ = ["Balance", "History", "KioskService", "Recorded", "balance_dict", "system_clock"]


def system_clock() -> int:
    return time.time_ns() // 1_000_000


class KioskService:
    def __init__(self, settings: Settings, *, clock: Callable[[], int] = system_clock,
                 transport: httpx.BaseTransport | None = None, nonce: Callable[[], str] | None = None):
        self.settings = settings
        self.clock = clock
        self.store = Store(settings.db_path, timeout=settings.db_wait, max_pages=settings.max_pages,
                           pin_pepper=load_or_create_pepper(settings.pepper_path))
        self._nonce = nonce
        self.recorder = Recorder(self.store, clock, lambda: load_key(settings.key_path), settings.check_url)
        self.enrolment = Enrolment(self.store, settings, clock, transport)
        self.counter = Counter(self.store, clock)
        self.online = Online(self.store, self.enrolment, settings, clock, nonce)

    def close(self) -> None:
        self.enrolment.close()
        self.store.close()

    # ------------------------------------------------------------ identity

    @property
    def kiosk_id(self) -> str | None:
        return self.store.meta("kiosk_id")

    @property
    def shop(self) -> str | None:
        return self.store.meta("shop")

    @property
    def shop_name(self) -> str:
        """The shop's name as enrolment and pulls gave it, else its id."""
        return self.store.meta("shop_name") or self.shop or ""

    def enroll(self, server_url: str, code: str, *, server_key: str | None = None, seed: bytes | None = None,
               ca: str | None = None, insecure_http: bool = False) -> dict:
        """See ``Enrolment.enroll``."""
        return self.enrolment.enroll(server_url, code, server_key=server_key, seed=seed, ca=ca,
                                     insecure_http=insecure_http)

    def rotate_key(self, code: str | None = None, *, seed: bytes | None = None) -> dict:
        """See ``Enrolment.rotate_key``."""
        return self.enrolment.rotate_key(code, seed=seed)

    def rotation_pending(self) -> bool:
        return self.enrolment.rotation_pending()

    # ------------------------------------------------------------ recording

    # each returns a Recorded; receipt=True also reads the resident's points before and after

    def award(self, card: str, rule: str, operator: str, note: str = "", *, receipt: bool = False) -> Recorded:
        self._fresh_if_other_county(card)
        return self.recorder.award(card, rule, operator, note, receipt=receipt)

    def redeem(self, card: str, items: list[tuple[str, int]], operator: str, *, receipt: bool = False) -> Recorded:
        self._fresh_if_other_county(card)
        return self.recorder.redeem(card, items, operator, receipt=receipt)

    def _fresh_if_other_county(self, card: str) -> None:
        """A resident of another county is served online only: a fresh signed statement of
        them first (their balance now bounds a redemption), else ``OtherCountyOnlineOnly``."""
        try:
            card = E.code("card", card)
        except E.BadCode:
            return  # the recorder says what is wrong with it
        self.online.fresh_statement(card)

    def void(self, target: str, reason: str, operator: str, *, receipt: bool = False) -> Recorded:
        return self.recorder.void(target, reason, operator, receipt=receipt)

    def stock_in(self, items: list[tuple[str, int]], operator: str, note: str = "", *,
                 receipt: bool = False) -> Recorded:
        return self.recorder.stock_in(items, operator, note, receipt=receipt)

    def shift_close(self, report, operator: str) -> Recorded | None:
        """Record the shift report (a ``kiosk.shift.ShiftReport``) as a ``shift_close`` event,
        sent with the next sync, if the server accepts the kind; None if it does not yet."""
        return self.recorder.shift_close(report, operator)

    def voice(self, card: str, channel: str, category: str, text: str, operator: str, *,
              receipt: bool = False) -> Recorded:
        """A resident's letter (书记信箱) or request (村民说事); the slip carries its tracking code."""
        return self.recorder.voice(card, channel, category, text, operator, receipt=receipt)

    def rate_voice(self, card: str, code: str, stars: int, operator: str, *, receipt: bool = False) -> Recorded:
        """The resident's 1-5 stars for their done letter or request, once."""
        return self.recorder.rate_voice(card, code, stars, operator, receipt=receipt)

    def claim_task(self, card: str, task: str, operator: str, *, receipt: bool = False) -> Recorded:
        """The resident takes on a volunteer task of their community (``task_claim``)."""
        return self.recorder.claim_task(card, task, operator, receipt=receipt)

    def finish_task(self, card: str, task: str, operator: str, *, receipt: bool = False) -> Recorded:
        """The resident's claimed task is done: the task's points follow (``task_done``)."""
        return self.recorder.finish_task(card, task, operator, receipt=receipt)

    def task_refusal(self, card: str, task: str, what: str) -> str | None:
        """Why a ``claim`` or ``done`` of ``task`` for ``card`` would be refused here now (None: taken)."""
        return self.recorder.task_refusal(card, task, what)

    def tasks(self, card: str) -> list[dict]:
        """The volunteer tasks of the resident's community as this kiosk knows them, each with
        ``taken`` (places claimed), ``mine`` (``claimed``, ``done`` or None: this resident's
        state, this kiosk's unsent events included) and ``open``."""
        resident = self.store.resident(card)
        if resident is None:
            return []
        out = []
        for row in self.store.tasks(resident["community"]):
            info, _ = self.recorder.task_state(row["id"])
            mine = next((("done" if d else "claimed") for who, d in info.claims.values() if who == card), None)
            out.append({k: row[k] for k in ("id", "title", "rule", "points", "slots", "status")}
                       | {"taken": len(info.claims), "mine": mine, "open": row["status"] == "open"})
        return out

    def rating_refusal(self, card: str, code: str) -> str | None:
        """Why ``card`` may not rate ``code`` here now (None: a rating would be taken)."""
        return self.recorder.rating_refusal(card, code)

    def voices(self, card: str) -> list[dict]:
        """A resident's letters and requests, newest first: where the server last said each
        stands (status, reply, stars), and this kiosk's own not yet on the server (status
        ``pending``); ``rated_here`` is the stars of this kiosk's rating the server has not
        reflected yet, ``may_rate`` whether a rating would be taken here now."""
        card = valid(card, Card, "card")
        rows = {r["code"]: dict(r) for r in self.store.voice_items(card)}
        rated: dict[str, int] = {}
        for r in self.store.unreflected_events(resident=card, kinds=("voice", "voice_rating")):
            ev = decode_event(r["body"])
            if kinds.tag_of(ev) == "voice_rating":
                rated[ev.code] = ev.stars
            elif ev.code not in rows:
                rows[ev.code] = {"code": ev.code, "resident": card, "channel": ev.channel, "category": ev.category,
                                 "at": ev.at, "status": "pending", "reply": "", "replied_at": None, "done_at": None,
                                 "stars": None}
        out = sorted(rows.values(), key=lambda r: (r["at"], r["code"]), reverse=True)
        for r in out:
            r["rated_here"] = rated.get(r["code"])
            r["may_rate"] = r["status"] == "done" and r["stars"] is None and r["rated_here"] is None
        return out

    def voice_owner(self, code: str) -> str | None:
        """The card of the resident a tracking code's letter or request is from, as far as this
        kiosk knows (its mirror, or its own unsent letters); None if it does not."""
        row = self.store.voice_item(code)
        if row is not None:
            return row["resident"]
        for r in self.store.unreflected_events(kinds=("voice",)):
            ev = decode_event(r["body"])
            if ev.code == code:
                return ev.resident
        return None

    # ------------------------------------------------------------ what recording decides by

    def balance(self, card: str) -> Balance:
        return self.recorder.balance(card)

    def stock_available(self) -> dict[str, int]:
        """Mirrored stock of this shop plus this kiosk's pending moves, per SKU."""
        return self.recorder.stock_available()

    def policy(self) -> Policy:
        return self.recorder.policy()

    def offline_allowance(self, card: str) -> int | None:
        """Points this resident may still redeem here today under the offline floor limit;
        None while the kiosk is online (no such limit then). For the redeem screen."""
        now = self.clock()
        if not self.recorder.offline(now):
            return None
        return max(0, self.policy().offline_daily_cap - self.recorder.redeemed_today(valid(card, Card, "card"), now))

    # ------------------------------------------------------------ queries

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
            if not kinds.lookup(row["kind"]).voidable:
                continue
            card = row["resident"]
            person = self.store.resident(card) if card else None
            points = points_delta([decode_event(row["body"])], self.recorder.lookup, card, self.shop or "") if card else None
            out.append({"id": row["id"], "kind": row["kind"], "at": row["at"], "operator": row["operator"],
                        "resident": card, "name": person["name"] if person else None, "points": points,
                        "voided_by": row["voided_by"]})
        return out

    def rules(self) -> list[dict]:
        return self.store.rules()

    def names(self, what: str, codes: set[str] | list[str] | dict) -> dict[str, str]:
        """code -> the name this kiosk mirrors, for ``what`` = "operator", "rule" or "good"."""
        row = {"operator": self.store.operator, "rule": self.store.rule, "good": self.store.good}[what]
        return {code: found["name"] for code in codes if (found := row(code)) is not None and found.get("name")}

    def good(self, sku: str) -> dict | None:
        """One mirrored goods row (any status), or None."""
        return self.store.good(sku)

    def goods(self) -> list[dict]:
        stock = self.stock_available()
        return [{**g, "stock": stock.get(g["sku"], 0)} for g in self.store.goods()]

    def history(self, card: str, limit: int = 50) -> list[dict]:
        """This kiosk's events about a resident, newest first: ``synced`` once the server
        acknowledged it (durable and counted once there), ``confirmed`` once the server said
        its ledger holds it and the balances pulled include it (docs/PROTOCOL.md § 4.8)."""
        card = valid(card, Card, "card")
        out = []
        for row in self.store.history(card, limit):
            ev = decode_event(row["body"])
            data = codec.to_builtins(ev)
            out.append({"id": ev.id, "kind": row["kind"], "at": ev.at, "operator": ev.operator,
                        "points": points_delta([ev], self.recorder.lookup, card, self.shop or ""),
                        "synced": row["acked_at"] is not None, "confirmed": bool(row["confirmed"]),
                        "voided_by": row["voided_by"],
                        **{k: data[k] for k in ("rule", "items", "target", "reason", "note") if k in data}})
        return out

    def shift_events(self) -> tuple[int, int | None, list[tuple[str, KioskEvent]]]:
        """The open shift: its first kseq, when it opened, and its events (kind tag, event),
        oldest first. A shift is a kseq range, not a clock range (the clock can be wrong)."""
        first = int(self.store.meta("shift_start_kseq") or 1)
        started = self.store.meta("shift_started_at")
        return first, int(started) if started else None, [(r["kind"], decode_event(r["body"]))
                                                            for r in self.store.events_from(first)]

    def community_name(self, community: str) -> str:
        """The community's name from the mirror, or its id before the first pull."""
        row = self.store.community(community)
        return row["name"] if row else community

    def rank(self, card: str) -> dict | None:
        """Where a resident stands on their community's newest public board pulled from
        the server (names masked), or None: no board yet, or not among its top lines."""
        resident = self.store.resident(valid(card, Card, "card"))
        if resident is None:
            return None
        for board in self.store.boards_of(resident["community"])[:1]:
            for line in json.loads(board["top"]):
                if line["card"] == card:
                    return {"community": board["community"], "month": board["month"], "rank": line["rank"],
                            "points": line["points"], "name": line["name"], "ranked": board["ranked"],
                            "published": board["published"]}
        return None

    def boards(self) -> list[dict]:
        """The newest public board pulled from the server of each community this kiosk's
        shop serves (every mirrored one, before the server has said which), in order:
        community, its name, month, ranked, published and its top lines, each resident
        named as every board names them (``sync.board.board_name``: 张*明（…1234）)."""
        serves = self.store.meta("serves")
        out = []
        for community in json.loads(serves) if serves else self.store.board_communities():
            for board in self.store.boards_of(community)[:1]:
                lines = [{"rank": ln["rank"], "name": board_name(ln["name"], ln["card"]), "points": ln["points"]}
                         for ln in json.loads(board["top"])]
                out.append({"community": community, "community_name": self.community_name(community),
                            "month": board["month"], "ranked": board["ranked"], "published": board["published"],
                            "lines": lines})
        return out

    def status(self) -> dict:
        meta = self.store.all_meta()
        now = self.clock()
        lease = self.recorder.lease()
        return {
            "kiosk": meta.get("kiosk_id"), "shop": meta.get("shop"), "shop_name": meta.get("shop_name"),
            "server_url": meta.get("server_url"), "enrolled": bool(meta.get("kiosk_id")),
            "pending_events": self.store.unacked_event_count(),
            "unconfirmed_events": self.store.unconfirmed_event_count(),
            "last_push_at": _int(meta.get("last_push_at")), "last_pull_at": _int(meta.get("last_pull_at")),
            "last_attempt_at": _int(meta.get("last_attempt_at")),
            "reachable": meta.get("reachable") == "1",
            "offline_mode": self.recorder.offline(now),
            "lease_remaining_seconds": max(0, lease_remaining(lease, now) // 1000) if lease else 0,
            "revoked": meta.get("revoked") == "1", "stopped_reason": meta.get("stopped_reason"),
            "checkpoint_alert": meta.get("checkpoint_alert"),
            "clock_wrong": json.loads(meta["clock_wrong"]) if meta.get("clock_wrong") else None,
            "cursor": _int(meta.get("cursor")) or 0, "schema_version": _int(meta.get("schema_version")),
        }

    # ------------------------------------------------------------ online (kiosk.online)

    def offered(self, request: str) -> bool:
        """Does the server answer ``request`` (``lookup``, ``history``) online?"""
        return self.online.offered(request)

    def look_up(self, card: str) -> dict:
        """A card this kiosk does not mirror, looked up online and kept as a visitor (so
        awards and redemptions for them work offline later); the resident row. Raises
        ``Offline``, ``NotOffered``, ``UnknownResident``, ``LookupAllowanceSpent``."""
        return self.online.lookup(card)

    def whole_history(self, card: str) -> History:
        """The resident's history across every shop, station and central adjustment, from
        the server; the same errors as ``look_up``. Offline, ``history`` is what this kiosk has."""
        return self.online.history(card)

    # ------------------------------------------------------------ sync

    def sync(self) -> SyncResult:
        """Push pending events, then pull. Safe to interrupt anywhere and run again."""
        if not self.kiosk_id:
            raise E.NotEnrolled()
        if self.rotation_pending() and self.store.meta("rotate_from_seq"):
            try:  # a rotation interrupted before its reply: ask again (same reply), then switch
                self.enrolment.finish_rotation()
            except E.Offline as exc:
                self.store.set_meta(reachable=False)
                return SyncResult(ok=False, problem="offline", detail={"why": exc.why})
            except E.Rejected as rej:
                return SyncResult(ok=False, problem="sync_fix_request", detail={"code": rej.code, "message": rej.message})
        stopped = self.store.meta("stopped_reason")
        # a broken chain is checked again each round (a false alarm clears itself; real
        # tampering stops the round again); any other stop waits for `resume`
        if stopped and not stopped.startswith("chain_broken"):
            return SyncResult(ok=False, problem="sync_stopped", detail={"reason": stopped})
        key = load_key(self.settings.key_path)
        # The round's clock is the plain clock: each page stores the clock high-water mark
        # with the cursor, so ticking it (one more fsync'd commit per reading) buys nothing.
        result = Round(self.store, self.enrolment.client(key), key, self.clock, self.settings.batch_events,
                       self.settings.pull_limit, self._nonce).run()
        self.online.forget_old_visitors()
        return result

    def probe(self) -> bool:
        """Does the server answer right now (a signed ``/v1/health``)? Cheap, and writes
        nothing: the app asks every few seconds, from a worker, between syncs."""
        if not self.kiosk_id:
            return False
        try:
            self.enrolment.client(load_key(self.settings.key_path)).health()
        except E.Offline:
            return False
        return True

    def resume(self) -> None:
        """Clear a stop after staff have dealt with its cause (not a revocation)."""
        if self.store.meta("revoked") != "1":
            self.store.set_meta(stopped_reason=None)


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def balance_dict(balance: Balance) -> dict:
    """The balance as the CLI's JSON shows it: its figures, counts and ``state``."""
    return {**asdict(balance), "state": balance.state}


def sync_mark(entry: dict) -> str | None:
    """The translation key of a history entry's sync state, or None once confirmed (or
    acknowledged by a server that does not confirm): ``pending_mark`` not yet acknowledged,
    ``acked_mark`` acknowledged (durable, counted once) but not yet in the server's ledger."""
    if not entry["synced"]:
        return "pending_mark"
    return None if entry["confirmed"] else "acked_mark"
