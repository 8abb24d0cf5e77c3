"""The protocol's wire types: what a kiosk and the server send each other.

Every struct is frozen and forbids unknown fields, so a decoder rejects anything it does
not understand instead of silently dropping it. The byte form of these structs is made by
``sync.codec`` alone (sorted keys, no whitespace, UTF-8); docs/PROTOCOL.md describes it.
"""

from typing import Annotated, Literal

import msgspec

from schema.types import (
    Card,
    Code,
    CountyId,
    Cursor,
    EventId,
    Hex128,
    Hex32,
    Hex64,
    KioskId,
    Millis,
    Name,
    OperatorId,
    Points,
    Price,
    Qty,
    Seq,
    Stars,
    Text,
    TrackingCode,
    VoiceText,
)


EnrollCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")]


class Wire(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base for every wire struct."""


# ---------------------------------------------------------------- kiosk events


class Item(Wire):
    """One line of a redemption: goods, quantity, unit price in points when recorded."""

    sku: Code
    qty: Qty
    price: Price


class StockLine(Wire):
    """One line of goods received at the shop."""

    sku: Code
    qty: Qty


class Award(Wire, tag="award"):
    """Points awarded (or deducted, for a prohibited-conduct rule) under a rule.

    ``points`` is the rule's value as the kiosk saw it when recording: a later rule change
    never rewrites this event.
    """

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    resident: Card
    rule: Code
    points: Points
    note: Text = ""


class Redeem(Wire, tag="redeem"):
    """Goods handed to a resident in exchange for points. ``total`` is the sum of lines."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    resident: Card
    items: list[Item]
    total: Price


class Void(Wire, tag="void"):
    """Reverses an earlier event of the same kiosk. Nothing recorded is ever edited."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    target: EventId
    reason: Text


class StockIn(Wire, tag="stock_in"):
    """Goods delivered to the shop."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    items: list[StockLine]
    note: Text = ""


class StockCount(Wire):
    """One goods line of a shift report: what the kiosk expected on the shelf and what the
    operator counted (None: not counted)."""

    sku: Code
    expected: Annotated[int, msgspec.Meta(ge=-10_000_000, le=10_000_000)]
    counted: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None


class ShiftClose(Wire, tag="shift_close"):
    """A kiosk's shift report, sent so central staff see stock differences: the counted
    against the expected stock per SKU, and the shift's totals from ``first_kseq`` on.
    No postings, no stock moves: a count corrects nothing by itself."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    first_kseq: Seq
    events: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
    awarded: Annotated[int, msgspec.Meta(ge=0, le=10**12)]
    deducted: Annotated[int, msgspec.Meta(ge=0, le=10**12)]
    redeemed: Annotated[int, msgspec.Meta(ge=0, le=10**12)]
    counts: Annotated[list[StockCount], msgspec.Meta(max_length=5000)]


class Voice(Wire, tag="voice"):
    """A resident's letter to the secretary (``letter``, 书记信箱) or request (``request``,
    村民说事), recorded by a station's operator. ``category`` is one of
    ``sync.kinds.voice.CATEGORIES``; ``code`` is the tracking code of this event
    (``sync.tracking``), printed on the resident's slip. No postings."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    resident: Card
    channel: Literal["letter", "request"]
    category: Code
    text: VoiceText
    code: TrackingCode


class VoiceRating(Wire, tag="voice_rating"):
    """The resident's 1-5 stars for a handled letter or request (``code``), given once."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    resident: Card
    code: TrackingCode
    stars: Stars


class TaskClaim(Wire, tag="task_claim"):
    """A resident takes on a volunteer service task (``task``, posted centrally: feed kind
    ``task``) at a station. No postings: the points follow once it is done."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    resident: Card
    task: Code


class TaskDone(Wire, tag="task_done"):
    """The station records a claimed task done (``claim``: the ``task_claim`` event). The
    award follows from the task: ``rule`` and ``points`` are the task's own as the kiosk
    mirrors it (never typed by the operator); the server posts them only when they are."""

    id: EventId
    kseq: Seq
    at: Millis
    operator: OperatorId
    resident: Card
    task: Code
    claim: EventId
    rule: Code
    points: Points


KioskEvent = Award | Redeem | Void | StockIn | ShiftClose | Voice | VoiceRating | TaskClaim | TaskDone


# ---------------------------------------------------------------- central events


class Adjust(Wire, tag="adjust"):
    """A central correction or opening balance, signed with the server key. ``review``
    names the review item it resolves, when it resolves one."""

    id: EventId
    kseq: Seq
    at: Millis
    staff: OperatorId
    resident: Card
    points: Points
    reason: Text
    review: int | None = None


class StockAdjust(Wire, tag="stock_adjust"):
    """A central correction of a shop's stock (opening stock, a count, a write-off)."""

    id: EventId
    kseq: Seq
    at: Millis
    staff: OperatorId
    shop: Code
    sku: Code
    delta: Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
    reason: Text


class Charge(Wire, tag="charge"):
    """A central resolution that credits a resident's account ``points`` (clearing an
    overdraft) against another account than ``programme:adjustments``: the shop it happened
    at (``against`` = ``shop``, deducted from that shop's settlement) or the programme's
    write-off account (``against`` = ``writeoff``). ``review`` names the item it resolves."""

    id: EventId
    kseq: Seq
    at: Millis
    staff: OperatorId
    resident: Card
    points: Points
    against: Literal["shop", "writeoff"]
    reason: Text
    shop: Code | None = None
    review: int | None = None


CentralEvent = Adjust | StockAdjust | Charge


class CentralBatch(Wire):
    """The server's own chain of events, kiosk id ``C``, signed under domain ``central``."""

    v: int
    seq: Seq
    prev: Hex64
    created: Millis
    events: list[CentralEvent]


class Batch(Wire):
    """A kiosk's signed unit of upload. ``prev`` chains it to the kiosk's previous batch."""

    v: int
    kiosk: KioskId
    seq: Seq
    prev: Hex64
    created: Millis
    events: list[KioskEvent]


# ---------------------------------------------------------------- replies


class PushReply(Wire):
    """The server's signed acknowledgement of one batch.

    ``status``: ``applied`` (now durable), ``duplicate`` (already applied earlier: the same
    acknowledgement again), ``held`` (verified and stored, but waiting for earlier batches;
    resend from ``next_seq``).
    """

    v: int
    kiosk: KioskId
    seq: Seq
    hash: Hex64
    status: Literal["applied", "duplicate", "held"]
    next_seq: Seq
    feed: Cursor
    server_time: Millis


class ErrorBody(Wire):
    """One shape for every error. ``action`` tells a kiosk what to do next."""

    code: str
    message: str
    action: Literal["retry", "resign", "resend_from", "stop", "upgrade", "fix_request"]
    detail: dict[str, str | int | None] = {}


class ErrorReply(Wire):
    """``request`` is the SHA-256 of the request body the error answers, so a signed error
    cannot be replayed against another request."""

    error: ErrorBody
    request: Hex64 | None = None
    v: int = 1


# ---------------------------------------------------------------- enrolment


class EnrollRequest(Wire):
    """A kiosk presents its new public key with a one-time code; ``proof`` is a signature
    over the code and key (domain ``enroll``), proving it holds the private key."""

    v: int
    code: EnrollCode
    public_key: Hex64
    label: Text
    proof: str


class EnrollReply(Wire):
    """``key_from_seq``: the first batch seq the new key signs (1 for a new kiosk; for a
    re-enrolment that binds a new key to an existing kiosk, where the old key stopped)."""

    v: int
    kiosk: KioskId
    shop: Code
    shop_name: str
    server_key: Hex64
    enrolled_at: Millis
    key_from_seq: Seq = 1


# ---------------------------------------------------------------- key rotation


class RotateRequest(Wire):
    """Sent to ``POST /v1/rotate``, signed by the kiosk's CURRENT key (domain ``rotate``,
    over the exact body). ``public_key`` is the new key, signing batches from ``from_seq``
    on; ``proof`` is the new key's signature (domain ``rotate``) over
    ``kiosk + "\n" + from_seq + "\n" + public_key`` (ASCII, from_seq in decimal)."""

    v: int
    kiosk: KioskId
    from_seq: Seq
    public_key: Hex64
    proof: str


class RotateReply(Wire):
    """The server's signed confirmation: ``public_key`` signs this kiosk's batches from
    ``from_seq`` on (the same reply again for a repeated request)."""

    v: int
    kiosk: KioskId
    public_key: Hex64
    from_seq: Seq
    rotated_at: Millis


# ---------------------------------------------------------------- pull


class PullRequest(Wire):
    """Signed by the kiosk (domain ``pull``). ``clock`` is the kiosk's own time, so the
    server can notice a wrong clock; ``nonce`` is echoed in the signed page so an old page
    cannot be replayed to the kiosk."""

    v: int
    kiosk: KioskId
    cursor: Cursor
    limit: int
    nonce: Hex32
    clock: Millis
    app: Text = ""


class Lease(Wire):
    """Permission to hand out goods while offline, for ``seconds`` from receipt."""

    kiosk: KioskId
    issued: Millis
    seconds: int


class Policy(Wire):
    """Central settings every kiosk follows (bounds on offline risk)."""

    lease_seconds: int
    balance_max_age_seconds: int
    offline_daily_cap: Price


class Change(Wire):
    """One entity's newest state. ``data`` is null when the entity is gone from the view.

    ``data`` is typed ``Raw`` alone because msgspec cannot decode ``Raw | None``: a JSON
    null arrives as ``Raw(b"null")`` (``None`` still encodes as null when building one).
    """

    kind: str
    key: str
    seq: Cursor
    data: msgspec.Raw = msgspec.Raw(b"null")


class PullPage(Wire):
    v: int
    kiosk: KioskId
    nonce: Hex32
    cursor: Cursor
    next: Cursor
    more: bool
    server_time: Millis
    revoked: bool
    policy: Policy
    lease: Lease | None
    changes: list[Change]


# ---------------------------------------------------------------- online lookup and history


class LookupRequest(Wire):
    """Signed by the kiosk (domain ``lookup``): one resident by exact card, for a card the
    kiosk does not mirror. ``nonce`` is echoed in the signed reply, so an old reply cannot
    be replayed; ``card`` is normalised by the server as typed (``sync.codes``)."""

    v: int
    kiosk: KioskId
    card: Annotated[str, msgspec.Meta(max_length=64)]
    nonce: Hex32
    clock: Millis


class LookupReply(Wire):
    """One resident as the server holds them: ``balance`` is the confirmed balance of the
    server's ledger, read at feed position ``feed`` (the kiosk's own batches acknowledged
    at or below it are in it)."""

    v: int
    kiosk: KioskId
    nonce: Hex32
    card: Card
    name: Name
    community: Code
    community_name: Name
    status: Literal["active", "retired"]
    balance: int
    feed: Cursor
    server_time: Millis


class HistoryRequest(Wire):
    """Signed by the kiosk (domain ``history``): a resident's whole history, the newest
    ``limit`` entries (1-500) of it."""

    v: int
    kiosk: KioskId
    card: Annotated[str, msgspec.Meta(max_length=64)]
    nonce: Hex32
    clock: Millis
    limit: int


class HistoryEntry(Wire):
    """One posting to the resident's account: at a kiosk (``kiosk``, its ``shop``, the
    receipt's 单号, the event id) or central (``kiosk`` ``C``, no shop or receipt); ``balance`` is
    the running balance after it."""

    event: EventId
    at: Millis
    kind: str
    points: int
    balance: int
    kiosk: str
    shop: Code | None
    shop_name: str | None
    receipt: str | None


class HistoryReply(Wire):
    """``entries``: the newest first, at most the ``limit`` asked for, of ``count`` in all;
    ``opening`` is the balance before the oldest entry shown, so ``opening`` plus the points
    shown is ``balance``, the confirmed balance (read at feed position ``feed``)."""

    v: int
    kiosk: KioskId
    nonce: Hex32
    card: Card
    opening: int
    balance: int
    count: int
    entries: list[HistoryEntry]
    feed: Cursor
    server_time: Millis


class ResidentLookupRequest(Wire):
    """Signed by the kiosk (domain ``resident-lookup``): one resident by exact card, for a
    resident of another county (``POST /v1/lookup/resident``, docs/PROTOCOL.md § 4.7)."""

    v: int
    kiosk: KioskId
    card: Annotated[str, msgspec.Meta(max_length=64)]
    nonce: Hex32
    clock: Millis


class ResidentStatement(Wire):
    """What the server states about one resident, signed by its key (domain ``resident``)
    over these canonical bytes: the card, the masked name (``sync.board.mask_name``), their
    community and county, and the confirmed balance read at feed position ``feed``, for the
    kiosk that asked (``kiosk`` in ``kiosk_county``, echoing its ``nonce``) at ``at``.
    ``county`` and ``kiosk_county`` ``''``: the default county."""

    v: int
    kiosk: KioskId
    kiosk_county: CountyId
    nonce: Hex32
    card: Card
    name: Name
    community: Code
    community_name: Name
    county: CountyId
    county_name: Annotated[str, msgspec.Meta(max_length=100)]
    status: Literal["active", "retired"]
    balance: int
    feed: Cursor
    at: Millis


class ResidentReply(Wire):
    """``statement``: a ``ResidentStatement``'s canonical bytes, exactly as signed;
    ``signature``: the server key's, domain ``resident``, over those bytes."""

    v: int
    statement: msgspec.Raw
    signature: Hex128


# ---------------------------------------------------------------- records carried by pull


class ResidentRec(Wire):
    """What a kiosk keeps of a resident: enough to find and serve them, no more.
    Only the last four digits of the phone number leave the server."""

    card: Card
    name: Name
    phone_tail: str
    community: Code
    status: Literal["active", "retired"]


class RuleRec(Wire):
    code: Code
    name: Name
    kind: Literal["basic", "encouraged", "prohibited"]
    points: Points
    cap_day: int | None
    cap_month: int | None
    status: Literal["active", "retired"]


class GoodRec(Wire):
    sku: Code
    name: Name
    unit: str
    price: Price
    status: Literal["active", "retired"]


class StockRec(Wire):
    shop: Code
    sku: Code
    qty: int


class BalanceRec(Wire):
    card: Card
    points: int


class ShopRec(Wire):
    id: Code
    name: Name
    community: Code
    kind: Literal["shop", "station"]


class ServesRec(Wire):
    """The communities whose residents (and balances) a shop's kiosks mirror; a kiosk drops
    the residents of any other community on receipt."""

    shop: Code
    communities: list[Code]


class CommunityRec(Wire):
    id: Code
    name: Name
    street: str


class OperatorRec(Wire):
    id: OperatorId
    shop: Code
    name: Name
    role: Literal["operator", "supervisor"]
    pin_hash: str
    status: Literal["active", "retired"]


class BoardLine(Wire):
    """One resident on a public board: the name masked (张*明), never the phone."""

    rank: int
    card: Card
    name: str
    points: int


class BoardRec(Wire):
    """A community's public board for one local month (feed key ``<community>/<month>``):
    the top ``len(top)`` of ``ranked`` residents, by points earned that month."""

    community: Code
    month: str
    published: Millis
    ranked: int
    top: list[BoardLine]


class CheckpointBody(Wire):
    """What the server signs (domain ``checkpoint``): the batch log's size and head."""

    v: int
    n: int
    size: int
    head: Hex64
    at: Millis


class CheckpointRec(Wire):
    """A signed checkpoint as it rides the feed (key ``latest``); a kiosk re-encodes the
    fields other than ``signature`` as a ``CheckpointBody`` to verify it."""

    v: int
    n: int
    size: int
    head: Hex64
    at: Millis
    signature: str


class CheckpointNoteRec(Wire):
    """Checkpoint ``n`` as a Merkle tree head in a C2SP signed note (kind ``checkpoint_note``,
    key ``latest``; docs/PROTOCOL.md § 13). Added after the first release."""

    n: int
    note: str


class ConsistencyReply(Wire):
    """``GET /v1/log/consistency``: the proof that the tree of ``old`` leaves is a prefix of
    the tree of ``new`` (RFC 9162 § 2.1.4), nodes as base64."""

    old: int
    new: int
    proof: list[str]


class InclusionReply(Wire):
    """``GET /v1/log/inclusion``: where batch ``kiosk``/``seq`` sits in the tree of ``size``
    leaves (``index`` from 0), its log entry ``leaf`` (hex, § 10) and the audit path."""

    kiosk: KioskId
    seq: Seq
    index: int
    size: int
    leaf: Hex64
    proof: list[str]


class ChainRec(Wire):
    """Where the server stands in one kiosk's batch chain (kind ``chain``, key the kiosk id,
    scope its shop). Published when the server's data were restored from a backup: a kiosk
    that had batches acknowledged at or past ``next_seq`` sends them again from its outbox."""

    kiosk: KioskId
    next_seq: Seq


class ProjectedRec(Wire):
    """How far the ledger has followed one kiosk's acknowledged batches (kind ``projected``,
    key the kiosk id, scope its shop; docs/PROTOCOL.md § 4.8): ``seq`` is the kiosk's
    highest batch the ledger holds (0: none yet), ``log`` the log position the ledger holds
    up to when the row was written. Published in the projection's own transaction, after the
    balance and stock rows it moved: a kiosk whose cursor passed this row has pulled them, so
    its batches up to ``seq`` are confirmed."""

    kiosk: KioskId
    seq: Annotated[int, msgspec.Meta(ge=0)]
    log: Annotated[int, msgspec.Meta(ge=0)]


class VoiceReplyRec(Wire):
    """Where a resident's letter or request stands (kind ``voice_reply``, key its tracking
    code, scope the resident's community): what the kiosk shows the resident when they
    return, and whether it may be rated. The text the resident wrote stays on the server."""

    code: TrackingCode
    resident: Card
    channel: Literal["letter", "request"]
    category: Code
    at: Millis
    status: Literal["open", "assigned", "replied", "done"]
    reply: str
    replied_at: Millis | None
    done_at: Millis | None
    stars: Stars | None


class TaskClaimRec(Wire):
    """One claim of a task: the resident's card, the ``task_claim`` event, whether done."""

    card: Card
    event: EventId
    done: bool


class TaskRec(Wire):
    """A volunteer service task staff posted (kind ``task``, key its id, scope its
    community): what it is, the rule whose points its completion awards (``points``: the
    rule's value when posted), how many residents may claim it, and the claims so far."""

    id: Code
    community: Code
    title: Name
    rule: Code
    points: Points
    slots: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    status: Literal["open", "closed"]
    posted_at: Millis
    claims: list[TaskClaimRec]


class AcceptsRec(Wire):
    """What this server accepts from kiosks (kind ``accepts``, key ``events``): the event
    kinds it can apply. A kiosk puts no event of another kind in a batch; it holds such
    events until the server names their kind (docs/PROTOCOL.md, "Protocol evolution")."""

    events: list[str]


class OffersRec(Wire):
    """The signed requests beyond push and pull this server answers (kind ``offers``, key
    ``requests``): ``lookup``, ``history`` and ``log_proofs`` (the GETs of docs/PROTOCOL.md § 13).
    A kiosk asks nothing else of it."""

    requests: list[str]


# ---------------------------------------------------------------- published keys (receipts)


class KeyWindow(Wire):
    """One key a kiosk held, and the receipts it may sign: those whose ``seq`` (the kiosk's
    next batch when it signed) is from ``from_seq`` up to and including ``to_seq`` (the next
    key's ``from_seq``, or the fence of a forced re-key); ``None``: the current key."""

    public_key: Hex64
    from_seq: Seq
    to_seq: Seq | None


class KioskKeys(Wire):
    """A kiosk's keys as the server publishes them (``jifen-server keys export``)."""

    kiosk: KioskId
    shop: Code
    status: Literal["active", "revoked"]
    keys: list[KeyWindow]


class PublishedKeys(Wire):
    """The keys file's signed body (domain ``keys``, server key): everything ``jifen-verify``
    needs to check a receipt with no database and no network."""

    v: int
    kind: Literal["jifen-keys"]
    server_key: Hex64
    exported_at: Millis
    kiosks: list[KioskKeys]
