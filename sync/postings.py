"""The ledger's values: accounts, postings, stock moves, review items, and the ``View`` a
batch touches and the ``Plan`` it yields. Plain data shared by the ledger's rules
(``sync.ledger``) and every event kind (``sync.kinds``), kept apart so a kind's module can
build on them without importing the planner that imports the kinds.

Accounts: ``resident:<card>`` (a resident's points), ``programme:issued`` (where awarded
points come from), ``shop:<id>`` (points taken in by a shop, what settlement pays out),
``programme:adjustments`` (central corrections), ``programme:writeoff`` (overdrafts the
programme wrote off; a ``charge`` against a shop posts to ``shop:<id>`` instead).
"""

from dataclasses import dataclass, field

ISSUED = "programme:issued"
ADJUSTMENTS = "programme:adjustments"
WRITEOFF = "programme:writeoff"


def resident_account(card: str) -> str:
    return f"resident:{card}"


def shop_account(shop: str) -> str:
    return f"shop:{shop}"


@dataclass(frozen=True)
class Posting:
    event: str
    account: str
    amount: int


@dataclass(frozen=True)
class StockMove:
    event: str
    shop: str
    sku: str
    delta: int


@dataclass(frozen=True)
class Review:
    """Something a validly signed event did that central staff must look at."""

    kind: str
    event: str | None
    resident: str | None
    detail: dict


@dataclass(frozen=True)
class RuleInfo:
    kind: str
    points: int
    status: str
    cap_day: int | None = None
    cap_month: int | None = None
    #: every points value the rule has had (its applied changes and its current value);
    #: empty means "only ``points``"
    values: frozenset[int] = frozenset()

    def has_had(self, points: int) -> bool:
        return points == self.points or points in self.values


@dataclass(frozen=True)
class OperatorInfo:
    """An operator as the server knows it: the shop it belongs to, its role and status."""

    shop: str
    role: str
    status: str


@dataclass(frozen=True)
class GoodInfo:
    price: int
    status: str


@dataclass(frozen=True)
class VoiceInfo:
    """A letter or request as a rating of it needs to know it: whose it is, where it stands
    (``open``, ``assigned``, ``replied``, ``done``) and the stars that count, if rated."""

    resident: str
    status: str
    stars: int | None = None


@dataclass(frozen=True)
class TaskInfo:
    """A volunteer service task as its claims and completions need to know it: its
    community (None: any), the rule and points its completion awards, how many may claim it
    (None: any number), when it was closed (None: open) and its claims so far (claim event
    -> (card, the done event or None))."""

    community: str | None
    rule: str
    points: int
    slots: int | None
    closed_at: int | None
    claims: dict[str, tuple[str, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """An earlier event a void may reverse, with the effects to undo. ``kind`` is its tag."""

    kind: str
    kiosk: str
    postings: tuple[tuple[str, int], ...]
    stock: tuple[tuple[str, str, int], ...]  # (shop, sku, delta)
    voided: bool


@dataclass
class View:
    """The state a batch touches, fetched by the caller before planning."""

    residents: dict[str, str] = field(default_factory=dict)  # card -> status
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    goods: dict[str, GoodInfo] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)  # account -> points
    stock: dict[tuple[str, str], int] = field(default_factory=dict)  # (shop, sku) -> qty
    targets: dict[str, Target] = field(default_factory=dict)
    known_ids: set[str] = field(default_factory=set)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (card, rule, period)
    operators: dict[str, OperatorInfo] = field(default_factory=dict)
    voices: dict[str, VoiceInfo] = field(default_factory=dict)  # tracking code -> item
    tasks: dict[str, TaskInfo] = field(default_factory=dict)  # task id -> task
    homes: dict[str, str] = field(default_factory=dict)  # card -> community (residents task events name)


@dataclass
class Plan:
    postings: list[Posting] = field(default_factory=list)
    stock_moves: list[StockMove] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)  # new values of touched accounts
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    voided: list[str] = field(default_factory=list)
    ratings: dict[str, tuple[str, int]] = field(default_factory=dict)  # tracking code -> (event, stars) that count
    claims: list[tuple[str, str, str]] = field(default_factory=list)  # (claim event, task, card) that count
    dones: list[tuple[str, str, str]] = field(default_factory=list)  # (claim event, done event, task) that award


@dataclass
class Refs:
    """What a batch refers to, so the caller can fetch its ``View``: cards, rules, SKUs
    (at the batch's shop), void targets, stock at other shops, cap counters, operators, the
    letters and requests ratings name, the tasks claims and completions name."""

    cards: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    stock: set[tuple[str, str]] = field(default_factory=set)
    counts: list[tuple[str, str, str]] = field(default_factory=list)
    operators: set[str] = field(default_factory=set)
    voices: set[str] = field(default_factory=set)  # tracking codes a rating names
    tasks: set[str] = field(default_factory=set)  # volunteer tasks claims and completions name
