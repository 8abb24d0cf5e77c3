"""Asking the server at the counter: a resident this kiosk does not mirror, by exact card
(``POST /v1/lookup``), and a resident's whole history across every shop, station and
central adjustment (``POST /v1/history``), each a signed request with a signed reply.

A looked-up resident is kept as a *visitor* (``visitors``, kiosk migration 5) with the
confirmed balance and the feed position the server read it at, so awards and redemptions
for them work offline afterwards exactly as for a mirrored resident (``kiosk.recording``
adds this kiosk's events the server had not applied then). Only what the server names in
its ``offers`` feed row is asked for; a server that answers ``404`` is of a release before
these requests (``NotOffered``). Recording never waits on this: the app calls it from a
worker, and anything that goes wrong is ``Offline``, ``NotOffered`` or a plain refusal.

A resident of another county (docs/PROTOCOL.md § 4.7: ``/v1/lookup`` answers
``other_county``) is asked for as a ``ResidentStatement`` signed by the server key
(``POST /v1/lookup/resident``, verified by ``kiosk.client`` before use) and kept as a visitor
with their county; such a visitor is served online only: ``fresh_statement`` asks again
before each transaction, so a redemption is bounded by the balance just stated, and offline
it is ``OtherCountyOnlineOnly``.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from kiosk import errors as E
from kiosk.enrolment import Enrolment
from kiosk.keys import load_key
from kiosk.settings import Settings
from kiosk.store import Store
from schema.kiosk_db import VISITOR_DAYS
from schema.wire import HistoryRequest, LookupRequest, ResidentLookupRequest, ResidentStatement
from sync.clock import reported_clock
from sync.protocol import PROTOCOL_VERSION

#: the newest entries of a history asked for (the server's limit is 500)
HISTORY_SHOWN = 200
DAY_MS = 86_400_000


@dataclass(frozen=True)
class History:
    """A resident's whole history as the server holds it: ``entries`` newest first, the
    newest of ``count``; ``opening`` + their points = ``balance`` (confirmed)."""

    card: str
    opening: int
    balance: int
    count: int
    entries: list[dict]


class Online:
    def __init__(self, store: Store, enrolment: Enrolment, settings: Settings, clock: Callable[[], int],
                 nonce: Callable[[], str] | None = None):
        self.store = store
        self.enrolment = enrolment
        self.settings = settings
        self.clock = clock
        self.nonce = nonce or (lambda: os.urandom(16).hex())

    def forget_old_visitors(self) -> None:
        """Drop the visitors not looked up for ``VISITOR_DAYS`` (each sync does)."""
        self.store.drop_visitors(self.clock() - VISITOR_DAYS * DAY_MS)

    def offered(self, request: str) -> bool:
        """Does the server answer ``request`` (``lookup``, ``history``), as its ``offers``
        row said? A server that published none is of a release before them."""
        raw = self.store.meta("offered_requests")
        return bool(raw) and request in json.loads(raw)

    def lookup(self, card: str) -> dict:
        """Look ``card`` up online and keep the resident as a visitor; the resident row
        (as ``KioskService.resident`` gives it). ``UnknownResident`` if nobody holds it."""
        card = E.code("card", card)
        try:
            reply = self._ask("lookup", LookupRequest(v=PROTOCOL_VERSION, kiosk=self._kiosk(), card=card,
                                                      nonce=self.nonce(), clock=reported_clock(self.clock())))
        except E.Rejected as rej:
            if rej.code != "other_county":
                raise
            self.statement(card)  # another county's: the signed statement, kept as an online-only visitor
            return self.store.resident(card)
        now = self.clock()
        known = self.store.resident(card)
        if known is None or known["visitor"]:  # a mirrored resident stays the mirror's
            self.store.put_visitor({"card": reply.card, "name": reply.name, "community": reply.community,
                                    "community_name": reply.community_name, "status": reply.status,
                                    "points": reply.balance, "feed": reply.feed, "fetched_at": now},
                                   keep_since=now - VISITOR_DAYS * DAY_MS)
        return self.store.resident(card)

    def statement(self, card: str) -> ResidentStatement:
        """The server's signed statement of a resident of another county, verified, kept as
        a visitor with their county (served online only). ``UnknownResident`` if nobody holds
        the card; one the statement puts in this kiosk's own county is kept as an ordinary
        visitor (served offline too)."""
        card = E.code("card", card)
        st = self._ask("resident_lookup", ResidentLookupRequest(v=PROTOCOL_VERSION, kiosk=self._kiosk(), card=card,
                                                                 nonce=self.nonce(), clock=reported_clock(self.clock())))
        other = st.county != st.kiosk_county
        now = self.clock()
        if self.store.resident(card) is None or self.store.visitor(card) is not None:
            self.store.put_visitor({"card": st.card, "name": st.name, "community": st.community,
                                    "community_name": st.community_name, "status": st.status, "points": st.balance,
                                    "feed": st.feed, "fetched_at": now, "county": st.county if other else None,
                                    "county_name": (st.county_name or st.county) if other else None},
                                   keep_since=now - VISITOR_DAYS * DAY_MS)
        return st

    def fresh_statement(self, card: str) -> None:
        """Before recording for ``card``: a visitor of another county gets a fresh signed
        statement (their balance now), and without one nothing is recorded
        (``OtherCountyOnlineOnly``); anyone else is served as always, offline too."""
        visitor = self.store.visitor(card)
        if visitor is None or visitor.get("county") is None:
            return
        try:
            self.statement(card)
        except (E.Offline, E.NotOffered):
            raise E.OtherCountyOnlineOnly(card=card, county=visitor["county_name"] or visitor["county"]) from None

    def history(self, card: str, limit: int = HISTORY_SHOWN) -> History:
        """The resident's whole history from the server (the newest ``limit`` entries)."""
        card = E.code("card", card)
        reply = self._ask("history", HistoryRequest(v=PROTOCOL_VERSION, kiosk=self._kiosk(), card=card, nonce=self.nonce(),
                                                    clock=reported_clock(self.clock()), limit=limit))
        if self.store.visitor(card) is not None:  # a fresher confirmed balance of a visitor
            self.store.refresh_visitor(card, reply.balance, reply.feed, self.clock())
        entries = [{f: getattr(e, f) for f in e.__struct_fields__} for e in reply.entries]
        return History(card=reply.card, opening=reply.opening, balance=reply.balance, count=reply.count, entries=entries)

    def _kiosk(self) -> str:
        kiosk = self.store.meta("kiosk_id")
        if not kiosk:
            raise E.NotEnrolled()
        return kiosk

    def _ask(self, request: str, body):
        if self.store.meta("revoked") == "1":
            raise E.KioskRevoked(kiosk=body.kiosk)
        if not self.offered(request):
            raise E.NotOffered(request=request)
        client = self.enrolment.client(load_key(self.settings.key_path))
        ask = {"lookup": client.lookup, "history": client.history, "resident_lookup": client.resident_lookup}[request]
        try:
            return ask(body)
        except E.Rejected as rej:
            if rej.code == "unknown_card":
                raise E.UnknownResident(card=body.card) from None
            if rej.code == "lookup_allowance":
                raise E.LookupAllowanceSpent(allowance=rej.detail.get("allowance")) from None
            if rej.code == "kiosk_revoked":
                self.store.set_meta(revoked=True)
                raise E.KioskRevoked(kiosk=body.kiosk) from None
            raise
