"""One sync round: check the local chain, cut and sign batches, push, then pull.

Everything is put on disk before it is sent and every step is idempotent, so a round may
be killed at any point and simply run again: batches are built once and resent byte for
byte, the server answers a repeat with the same acknowledgement, and a pull page is
applied together with the cursor that follows it, in one transaction.

When the server refuses a batch, ``sync.protocol.ERRORS`` says what to do and this module
does it: retry later, re-sign once, resend from where the server stands, or stop and tell
the operator.
"""

import json
import os

import msgspec
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.client import Client
from kiosk.errors import ChainBroken, Offline, Rejected
from kiosk.pending import decode_event
from kiosk.store import Store
from kiosk.treelog import check_notes, nodes
from schema.feeds import FEEDS
from schema.wire import Change, PullPage, PullRequest
from sync import codec, kinds
from sync.batch import build_batch
from sync.checkpoint import body as checkpoint_body
from sync.chunks import chunks
from sync.clock import EARLIEST, LATEST, WIRE_EARLIEST, record_time, refused_time, reported_clock
from sync.crashpoint import crash_point
from sync.protocol import BASE_EVENT_KINDS, PROTOCOL_VERSION, SUPPORTED_VERSIONS
from sync.signing import BadKey, BadSignature, SigningKey, VerifyKey

#: how often one round follows a "held"/"resend_from" before giving up until next time
MAX_RESENDS = 3
_SHRINK_CODES = {"body_too_large", "batch_too_large"}
#: the meta a pull page rewrites every round, changed or not: times and the lease renewed
#: from them. A page that carries no changes and moves only these is committed without an
#: fsync (``Store.transaction(durable=False)``): a power cut may lose it, and the next
#: round writes it again; what the kiosk recorded is never in such a commit.
_BOOKKEEPING = frozenset({"server_time_seen", "last_pull_at", "last_attempt_at", "clock_high_water", "lease",
                          "lease_received_local"})


@dataclass
class SyncResult:
    ok: bool
    pushed: int = 0  # batches the server acknowledged this round
    pulled: int = 0  # mirror changes applied this round
    held: int = 0  # events kept back: of a kind the server does not accept (yet)
    problem: str | None = None  # translation key when not ok
    detail: dict = field(default_factory=dict)


class _Stop(Exception):
    """Ends the round with a message; nothing is lost, the next round carries on."""

    def __init__(self, problem: str, **detail):
        super().__init__(problem)
        self.problem = problem
        self.detail = detail


class Round:
    def __init__(self, store: Store, client: Client, key: SigningKey, clock: Callable[[], int],
                 batch_events: int, pull_limit: int, nonce: Callable[[], str] | None = None):
        self.store = store
        self.client = client
        self.key = key
        self.clock = clock
        self.kiosk = store.meta("kiosk_id")
        self.shop = store.meta("shop")
        self.batch_events = batch_events
        self.pull_limit = pull_limit
        self.nonce = nonce or (lambda: os.urandom(16).hex())
        self.result = SyncResult(ok=True)
        self.attempt = 0

    def run(self) -> SyncResult:
        # written with the first pull page's meta, or with the failure that ends the round:
        # a round of its own for it cost a durable commit (an fsync) every round
        self.attempt = self.clock()
        try:
            if self.store.meta("server_time_seen") is None and self.store.unbatched_events():
                self.pull_all()  # learn the server's time before cutting batches (sync.clock)
            self.build_batches(self.batch_events)
            self.push_all()
            if self.pull_all():  # the server was restored from a backup and lacks batches
                self.push_all()
                self.pull_all()
            if self.result.held and self.build_batches(self.batch_events):
                self.push_all()  # the pull said the server now accepts what was held
            if (self.store.meta("stopped_reason") or "").startswith("chain_broken"):
                self.store.set_meta(stopped_reason=None)  # the chain checked whole again: a false alarm
            if self.store.meta("revoked") == "1":
                return self._fail("kiosk_revoked")  # the page said so: tell the operator
        except ChainBroken as exc:
            return self._fail("chain_broken", {"stopped_reason": f"chain_broken: event {exc.fields['kseq']}"}, **exc.fields)
        except Offline as exc:
            return self._fail("offline", {"reachable": False}, why=exc.why)
        except _Stop as stop:
            return self._fail(stop.problem, **stop.detail)
        return self.result

    def _fail(self, problem: str, meta: dict | None = None, **detail) -> SyncResult:
        """End the round as not ok, storing ``meta`` with the round's attempt time."""
        self.store.set_meta(**(meta or {}), last_attempt_at=self.attempt)
        self.result.ok = False
        self.result.problem = problem
        self.result.detail = detail
        return self.result

    # ------------------------------------------------------------ (a) + (b) build

    def build_batches(self, size: int) -> int:
        """Cut every un-batched event into signed batches, in one transaction that also
        marks the events batched. Refuses if any event row was altered on disk.

        Only events of kinds the server accepts are cut: from the first one it does not,
        every later event waits too (a chain has no gaps), and is sent once a pull says the
        server accepts its kind. Recording and pulling go on meanwhile."""
        with self.store.transaction():
            rows = self.store.unbatched_events()
            if not rows:
                self.result.held = 0
                return 0
            events = self._retimed(self._verified(rows), rows)
            accepted = self.accepted_kinds()
            sendable = next((i for i, ev in enumerate(events) if kinds.tag_of(ev) not in accepted), len(events))
            self.result.held = len(events) - sendable
            events = events[:sendable]
            if not events:
                return 0
            seq, prev = self.store.last_batch()
            now = self._kiosk_time()
            for chunk in chunks(events, size):
                seq += 1
                body = build_batch(self.kiosk, seq, prev, now, chunk)
                self.store.add_batch(seq, prev, body, self.key.sign("batch", body), now, [e.kseq for e in chunk])
                prev = codec.digest(body)
            crash_point("kiosk.batch.before_commit")
            return len(events)

    def accepted_kinds(self) -> frozenset[str]:
        """The event kinds the server said (in an ``accepts`` feed row) it applies; the
        first release's when it has said nothing."""
        raw = self.store.meta("accepted_kinds")
        return frozenset(json.loads(raw)) if raw else BASE_EVENT_KINDS

    def _kiosk_time(self) -> int:
        """The clock reading, or the best known time when it is far wrong (``sync.clock``)."""
        return record_time(self.clock(), _int(self.store.meta("server_time_seen")), self.store.last_event_at()).at

    def _retimed(self, events: list, rows: list[dict]) -> list:
        """Un-batched events recorded at a time the server refuses (``sync.clock.refused_time``
        against the server time last seen) — recorded before this rule existed, with the
        clock at 1970 or years ahead — re-timed to the best known time and re-chained. They
        were never signed or sent, and their chain was verified just before, so this alters
        no history anyone holds and hides no tampering."""
        seen = _int(self.store.meta("server_time_seen"))
        if seen is None or not any(refused_time(ev.at, seen) for ev in events):
            return events
        best = record_time(EARLIEST - 1, seen, None).at
        prev = self.store.chain_before(rows[0]["kseq"])
        out, rewrites = [], []
        for ev in events:
            if refused_time(ev.at, seen):
                ev = msgspec.structs.replace(ev, at=best)
            body = codec.encode(ev)
            prev = codec.chain_hash(prev, body)
            out.append(ev)
            rewrites.append((ev.kseq, ev.at, body, prev))
        self.store.retime_unbatched(rewrites)
        return out

    def _verified(self, rows: list[dict]) -> list:
        prev = self.store.chain_before(rows[0]["kseq"])
        events = []
        for expected_kseq, row in enumerate(rows, start=rows[0]["kseq"]):
            body = row["body"]
            # a body rewritten as TEXT (an edit by hand) is as altered as a changed byte
            if row["kseq"] != expected_kseq or not isinstance(body, bytes) or codec.chain_hash(prev, body) != row["chain"]:
                raise ChainBroken(kseq=row["kseq"])
            try:
                ev = decode_event(_in_wire_bounds(row["body"]))
            except codec.DecodeError:
                raise ChainBroken(kseq=row["kseq"]) from None
            if ev.kseq != row["kseq"] or ev.id != row["id"]:
                raise ChainBroken(kseq=row["kseq"])
            events.append(ev)
            prev = row["chain"]
        return events

    # ------------------------------------------------------------ (c) push

    def push_all(self) -> None:
        queue = deque(b["seq"] for b in self.store.unacked_batches())
        resigned = False
        resends = 0
        while queue:
            seq = queue.popleft()
            batch = self.store.batches_from(seq)[0]
            try:
                self._send(batch)
            except Rejected as rej:
                self.store.set_meta(reachable=True)
                if rej.action == "resign" and not resigned:
                    resigned = True
                    self.store.discard_batches_from(seq)
                    size = max(1, self.batch_events // 2) if rej.code in _SHRINK_CODES else self.batch_events
                    self.build_batches(size)
                    queue = deque(b["seq"] for b in self.store.unacked_batches())
                    continue
                if rej.action == "resend_from" and resends < MAX_RESENDS and isinstance(rej.detail.get("next_seq"), int):
                    resends += 1
                    queue = self._queue_from(rej.detail["next_seq"])
                    continue
                raise self._stop_for(rej) from None
            except _Held as held:
                resends += 1
                if resends > MAX_RESENDS or held.next_seq >= seq:
                    raise _Stop("sync_held_loop", seq=seq, next_seq=held.next_seq) from None
                queue = self._queue_from(held.next_seq)

    def _queue_from(self, seq: int) -> deque:
        """Every stored batch from ``seq`` on, acked or not: the server is missing them."""
        return deque(b["seq"] for b in self.store.batches_from(seq))

    def _send(self, batch: dict) -> None:
        self.store.mark_sent(batch["seq"], self.clock())
        reply = self.client.push(bytes(batch["body"]), batch["signature"])
        crash_point("kiosk.push.after_reply")
        self.store.set_meta(reachable=True, server_time_seen=reply.server_time)
        if reply.kiosk != self.kiosk or reply.seq != batch["seq"] or reply.hash != batch["hash"]:
            raise Offline(f"push reply does not match batch {batch['seq']}")
        if reply.v not in SUPPORTED_VERSIONS:
            raise self._stop_for(Rejected("protocol_unsupported", "upgrade", f"push reply speaks protocol version {reply.v}"))
        if reply.status == "held":
            raise _Held(reply.next_seq)
        now = self.clock()
        with self.store.transaction():
            self.store.mark_acked(batch["seq"], reply.status, reply.feed, now)
            self.store.set_meta(last_push_at=now)
        self.result.pushed += 1

    def _stop_for(self, rej: Rejected) -> _Stop:
        if rej.action in ("stop", "upgrade"):
            reason = f"{rej.code}: {rej.message}"
            self.store.set_meta(stopped_reason=reason, **({"revoked": True} if rej.code == "kiosk_revoked" else {}))
            key = "upgrade_needed" if rej.action == "upgrade" else "sync_stopped"
            return _Stop(key, reason=reason, code=rej.code)
        if rej.action == "retry":
            return _Stop("sync_retry", code=rej.code, message=rej.message)
        if rej.action == "resign":
            return _Stop("sync_resign_failed", code=rej.code, message=rej.message)
        return _Stop("sync_fix_request", code=rej.code, message=rej.message)

    # ------------------------------------------------------------ (d) pull

    def pull_all(self) -> bool:
        """Pull every page; True when a ``chain`` row reopened acknowledged batches."""
        cursor = int(self.store.meta("cursor") or 0)
        reopened = False
        while True:
            nonce = self.nonce()
            request = PullRequest(v=PROTOCOL_VERSION, kiosk=self.kiosk, cursor=cursor, limit=self.pull_limit,
                                  nonce=nonce, clock=reported_clock(self.clock()), app="jifen-kiosk")
            try:
                page = self.client.pull(request)
                crash_point("kiosk.pull.after_reply")
            except Rejected as rej:
                self.store.set_meta(reachable=True)
                raise self._stop_for(rej) from None
            self._check_page(page, nonce, cursor)
            conflicts = self._check_checkpoints(page.changes)
            unproven = check_notes(page.changes, self.store.meta("server_key"), self.store.latest_tree_head(), self._consistency)
            changes = [c for c in self._decode_changes(page.changes)
                       if not (c[0] == "checkpoint" and c[1] in conflicts) and not (c[0] == "checkpoint_note" and c[1] in unproven)]
            conflicts = {**conflicts, **unproven}
            lost_from = self._server_lost_from(page.changes)
            projected = self._projected(page.changes)
            meta = self._page_meta(page)
            if projected is not None:
                meta["projected_log"] = projected[1].log
            accepts = self._latest(page.changes, "accepts")
            if accepts is not None:
                meta["accepted_kinds"] = json.dumps(sorted(accepts.events))
            offers = self._latest(page.changes, "offers")
            if offers is not None:  # the signed requests beyond push and pull it answers (kiosk.online)
                meta["offered_requests"] = json.dumps(sorted(offers.requests))
            serves = self._latest(page.changes, "serves", self.shop)
            serves = serves.communities if serves is not None else None
            resync = False
            if serves is not None:
                before = self.store.meta("serves")
                meta["serves"] = json.dumps(serves)
                # a newly served community's residents were published before: pull from the start
                resync = before is not None and bool(set(serves) - set(json.loads(before)))
                if resync:
                    meta["cursor"] = 0
            # a page that changes nothing but the round's times need not be durable
            quiet = not page.changes and page.lease is not None and self.store.changed_meta(meta) <= _BOOKKEEPING
            with self.store.transaction(durable=not quiet):
                self.store.apply_changes(changes, meta)
                if serves is not None:
                    self.store.keep_communities(serves)
                if conflicts:
                    self.store.set_meta(checkpoint_alert=next(iter(conflicts.values())))
                if lost_from is not None:
                    reopened |= self.store.reopen_batches_from(lost_from) > 0
                if projected is not None:  # after a reopening: the row covers what the server holds now
                    self.store.confirm_batches(projected[1].seq, projected[0])
            self.result.pulled += len(changes)
            cursor = 0 if resync else page.next
            if not page.more and not resync:
                return reopened

    def _consistency(self, old: int, new: int) -> list[bytes] | None:
        reply = self.client.log_consistency(old, new)
        return None if reply is None else nodes(reply.proof)

    def _server_lost_from(self, changes: list[Change]) -> int | None:
        """The seq from which the server no longer holds our batches, if a ``chain`` row
        (published after a restore from a backup) says it stands behind our acks."""
        for ch in changes:
            if ch.kind == "chain" and ch.key == self.kiosk and bytes(ch.data) != b"null":
                try:
                    return codec.decode(bytes(ch.data), FEEDS["chain"].record).next_seq
                except codec.DecodeError as exc:
                    raise Offline(f"garbled chain {ch.key}: {exc.message}") from None
        return None

    def _projected(self, changes: list[Change]) -> tuple[int, object] | None:
        """(feed seq, record) of this page's last ``projected`` row for this kiosk: the
        server's ledger holds our batches up to its ``seq``, and the balances it moved are
        at or below that feed seq (docs/PROTOCOL.md § 4.8)."""
        return self._last(changes, "projected", self.kiosk)

    def _latest(self, changes: list[Change], kind: str, key: str | None = None):
        """The record of the last ``kind`` row on this page (with feed key ``key``, if
        given), or None: an ``accepts``, ``serves`` or ``offers`` row, acted on, not mirrored."""
        found = self._last(changes, kind, key)
        return None if found is None else found[1]

    def _last(self, changes: list[Change], kind: str, key: str | None) -> tuple[int, object] | None:
        found = None
        for ch in changes:
            if ch.kind == kind and (key is None or ch.key == key) and bytes(ch.data) != b"null":
                try:
                    found = (ch.seq, codec.decode(bytes(ch.data), FEEDS[kind].record))
                except codec.DecodeError as exc:
                    raise Offline(f"garbled {kind} {ch.key}: {exc.message}") from None
        return found

    def _check_page(self, page: PullPage, nonce: str, cursor: int) -> None:
        if page.nonce != nonce or page.kiosk != self.kiosk or page.cursor != cursor:
            raise Offline("pull page does not answer this request (nonce, kiosk or cursor)")
        if page.v not in SUPPORTED_VERSIONS:
            raise self._stop_for(Rejected("protocol_unsupported", "upgrade", f"pull page speaks protocol version {page.v}"))
        if page.next < cursor or (page.more and page.next == cursor):
            raise Offline("pull page does not move the cursor forward")
        if page.lease is not None and page.lease.kiosk != self.kiosk:
            raise Offline("lease names another kiosk")

    def _check_checkpoints(self, changes: list[Change]) -> dict[str, str]:
        """A pulled checkpoint must verify under the pinned server key (else the page is
        refused whole, like any page that does not verify) and extend the ones this kiosk
        holds: never a smaller log, never another head at the same size, never other
        contents under a number already held.

        One that verifies but does not extend is evidence that the server's log was
        rewritten (or restored from an older backup). It is not stored — the copies kept
        here are the evidence and are never overwritten — and the kiosk raises a standing
        alert for the operator and central staff, but it goes on pulling: stopping would cost
        residents their service (the lease would run out) and could not undo the server's
        side. Returns {checkpoint key: alert text} for the checkpoints left out."""
        conflicts: dict[str, str] = {}
        for ch in changes:
            if ch.kind != "checkpoint" or ch.data is None or bytes(ch.data) == b"null":
                continue
            try:
                rec = codec.decode(bytes(ch.data), FEEDS["checkpoint"].record)
                VerifyKey(self.store.meta("server_key")).verify("checkpoint", checkpoint_body(rec.n, rec.size, rec.head, rec.at), rec.signature)
            except (codec.DecodeError, BadSignature, BadKey) as exc:
                raise Offline(f"checkpoint {ch.key} does not verify under the pinned server key: {exc}") from None
            for held in self.store.checkpoints_to_check(rec.n):
                same_n = held["n"] == rec.n and (held["size"], held["head"], held["at"], held["signature"]) != (rec.size, rec.head, rec.at, rec.signature)
                if same_n or rec.size < held["size"] or (rec.size == held["size"] and rec.head != held["head"]):
                    conflicts[ch.key] = (f"checkpoint {rec.n} (size {rec.size}) does not extend checkpoint {held['n']} "
                                         f"(size {held['size']}) held here")
        return conflicts

    def _decode_changes(self, changes: list[Change]) -> list[tuple[str, str, dict | None]]:
        """The page's changes as mirror rows, as the table of feed kinds (``schema.feeds``)
        says: (kind, mirror key, row or None for a removal)."""
        out = []
        for ch in changes:
            feed = FEEDS.get(ch.kind)
            if feed is None or feed.table is None:
                continue  # a kind from a newer server, or one acted on and not kept
            key = feed.local_key(ch.key, self.shop)
            if key is None:
                continue  # another shop's
            row = None
            if ch.data is not None and bytes(ch.data) != b"null":
                try:
                    rec = codec.decode(bytes(ch.data), feed.record)
                except codec.DecodeError as exc:
                    raise Offline(f"garbled {ch.kind} {ch.key}: {exc.message}") from None
                row = feed.adapt(rec, ch.key)
            out.append((ch.kind, key, row))
        return out

    def _page_meta(self, page: PullPage) -> dict:
        now = self.clock()
        # a clock far from the server's time this page carries does not move the high-water
        # mark (nor, so, the lease) beyond what sync.clock would record at
        high = max(record_time(now, page.server_time, None).at, int(self.store.meta("clock_high_water") or 0))
        meta = {
            "server_time_seen": page.server_time,
            "cursor": page.next,
            "policy": codec.encode(page.policy).decode(),
            "revoked": page.revoked,
            "reachable": True,
            "last_pull_at": now,
            "last_attempt_at": self.attempt,
            "clock_high_water": high,
            "lease": None,
        }
        if page.lease is not None:
            # counted from the high-water mark, so a clock once set too far ahead cannot
            # lock the kiosk out for ever, and winding it back cannot stretch the lease
            meta["lease"] = json.dumps({"seconds": page.lease.seconds, "issued": page.lease.issued})
            meta["lease_received_local"] = high
        return meta


class _Held(Exception):
    def __init__(self, next_seq: int):
        super().__init__(next_seq)
        self.next_seq = next_seq


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _in_wire_bounds(body: bytes) -> bytes:
    """An event body whose ``at`` the wire types refuse (a 1970 clock) brought within
    them, so it decodes and can be re-timed; any other defect still fails to decode."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body
    if isinstance(raw, dict) and isinstance(raw.get("at"), int) and not WIRE_EARLIEST <= raw["at"] <= LATEST:
        return codec.encode({**raw, "at": min(LATEST, max(WIRE_EARLIEST, raw["at"]))})
    return body
