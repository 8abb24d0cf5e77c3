"""What an event kind is: the one class every kind's module fills in.

A ``Kind`` names its wire struct and says, as pure data or pure decisions, everything the
rest of the system needs to know about events of that kind: what they refer to, their
ledger effects, the structural checks a batch must pass, the columns they are stored
under, and how they read on a receipt, a shift report and the central reports. Consumers
look the kind up in ``sync.kinds.KINDS`` and never test an event's type themselves.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from sync.postings import Plan, Posting, Refs, Review, StockMove, Target, View
from sync.protocol import MAX_ITEMS_PER_EVENT, RequestRejected


@dataclass(frozen=True)
class Columns:
    """The indexed columns an event is stored under beside its bytes (both databases).
    ``shop`` is set only by a kind that names its shop itself; otherwise the batch's shop."""

    operator: str | None
    resident: str | None = None
    shop: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class ReceiptLine:
    """One line of a receipt. ``name`` is (``rule`` | ``good``, code): the kiosk prints the
    code with the name it mirrors for it."""

    name: tuple[Literal["rule", "good"], str]
    qty: int
    points: int  # signed effect on the resident (or the qty, for quantities-only lines)


@dataclass(frozen=True)
class ReceiptPart:
    """What a kind puts on its receipt; the title is translation key ``receipt_title_<tag>``."""

    lines: list[ReceiptLine] = field(default_factory=list)
    note: str = ""
    target: str | None = None
    resident: bool = True  # the receipt names the resident
    quantities_only: bool = False  # lines show quantities, no points (a delivery note)
    tracking: str | None = None  # a letter's or request's tracking code (``sync.tracking``): the slip's big line
    stars: int | None = None  # a rating's stars
    topic: tuple[str, str] | None = None  # a letter's or request's (channel, category), in the interface's words


@dataclass(frozen=True)
class ShiftLine:
    """One contribution of an event to a shift report. ``section``: ``operator`` (``key`` a
    field of the operator's totals, ``points`` added to it), ``rule`` (key the rule code),
    ``good`` (key the SKU handed out) or ``received`` (key the SKU delivered)."""

    section: Literal["operator", "rule", "good", "received"]
    key: str
    count: int
    points: int = 0


@dataclass
class Step:
    """The planner's running state while it walks one batch; a kind's ``plan`` reads the
    view and adds postings, stock moves and reviews through it."""

    view: View
    plan: Plan
    kiosk: str
    shop: str
    targets: dict[str, Target]
    #: the ids whose effects a later void of the run may name (None: every id's are kept)
    wanted: set[str] | frozenset[str] | None = None
    at: int = 0  # when the server acknowledged the batch (0: not known, before it is)

    def remember(self, event_id: str, target: Callable[[], Target]) -> None:
        """Keep ``event_id``'s effects for a later void of the same run, built only when
        ``wanted`` names it (a projection chunk knows which ids its voids name)."""
        if self.wanted is None or event_id in self.wanted:
            self.targets[event_id] = target()

    def post(self, p: Posting) -> None:
        bal = self.view.balances
        self.plan.postings.append(p)
        self.plan.balances[p.account] = bal[p.account] = bal.get(p.account, 0) + p.amount

    def move(self, m: StockMove) -> None:
        stock = self.view.stock
        self.plan.stock_moves.append(m)
        key = (m.shop, m.sku)
        self.plan.stock[key] = stock[key] = stock.get(key, 0) + m.delta

    def review(self, kind: str, event: str | None, resident: str | None, detail: dict) -> None:
        self.plan.reviews.append(Review(kind, event, resident, detail))


def reject(ev: Any, message: str, **detail) -> RequestRejected:
    return RequestRejected("invalid_batch", f"event {ev.id}: {message}", event=ev.id, **detail)


class Kind:
    """One event kind. Subclasses set ``tag``, ``wire`` and ``origin`` and override the hooks
    that apply to them; each default is what a kind without that aspect does."""

    tag: ClassVar[str]
    wire: ClassVar[type]
    origin: ClassVar[Literal["kiosk", "central"]]  # who records it: a kiosk, or the server
    reverses: ClassVar[bool] = False  # undoes the effects of the event ``target`` names
    moves_stock: ClassVar[bool] = False  # changes the recording shop's stock
    voidable: ClassVar[bool] = True  # a kiosk may void it (a report is no transaction)
    # central reports
    settles_as: ClassVar[str] = "other"  # settlement column of its postings to shop:<id>
    on_board: ClassVar[bool] = False  # its points count as "earned" on the monthly board
    hands_out_goods: ClassVar[bool] = False  # its lines are goods out in settlement
    needs_supervisor: ClassVar[bool] = False  # its operator must be a supervisor (kiosk kinds)

    # ------------------------------------------------------------ ledger

    def refs(self, ev: Any, refs: Refs) -> None:
        """Add what ``ev`` refers to."""

    def check(self, ev: Any) -> None:
        """Structural rules that need no database; raise ``RequestRejected``."""

    def effects(self, ev: Any, shop: str) -> tuple[list[Posting], list[StockMove]]:
        """Postings (summing to zero) and stock moves of ``ev`` recorded at ``shop``."""
        return [], []

    def refused(self, ev: Any, view: View) -> bool:
        """Whether what ``ev``'s references say (read into ``view``) must refuse its batch,
        beyond a reference that does not exist (``sync.projection.refusal`` checks those for
        a whole batch at once): asked when a batch is acknowledged, before it is logged."""
        return False

    def screen(self, ev: Any, step: Step) -> None:
        """Check references before the effects: reject what never existed, review the rest."""

    def after(self, ev: Any, step: Step, moves: list[StockMove]) -> None:
        """Reviews that need the balances and stock after the effects."""

    def plan(self, ev: Any, step: Step) -> None:
        self.screen(ev, step)
        posts, moves = self.effects(ev, step.shop)
        for p in posts:
            step.post(p)
        for m in moves:
            step.move(m)
        step.remember(ev.id, lambda: self.target_of(ev, step.kiosk, step.shop))
        self.after(ev, step, moves)

    def target_of(self, ev: Any, kiosk: str, shop: str) -> Target:
        """``ev`` as a later void in the same batch would find it."""
        posts, moves = self.effects(ev, shop)
        return Target(self.tag, kiosk, tuple((p.account, p.amount) for p in posts),
                      tuple((m.shop, m.sku, m.delta) for m in moves), False)

    def target(self, ev: Any) -> str | None:
        """The event ``ev`` reverses (kinds that reverse)."""
        return None

    # ------------------------------------------------------------ storage and reading

    def columns(self, ev: Any) -> Columns:
        raise NotImplementedError(f"kind {self.tag} does not say its columns")

    def receipt(self, ev: Any) -> ReceiptPart:
        raise NotImplementedError(f"kind {self.tag} has no receipt")

    def shift(self, ev: Any) -> list[ShiftLine]:
        """What ``ev`` adds to a shift report (kinds recorded at a kiosk)."""
        return []

    def issued_flow(self, rule_kind: str | None) -> tuple[str, bool]:
        """(flow, by rule) on the issued-and-spent report: a resident posting of this kind
        counts as ``flow``; ``by rule`` keeps the rule it was under."""
        return "corrected", False


# ------------------------------------------------------------ helpers several kinds share


def check_lines(ev: Any) -> None:
    """Goods lines: at least one, at most MAX_ITEMS_PER_EVENT, no SKU twice."""
    items = ev.items
    if not items:
        raise RequestRejected("invalid_batch", f"event {ev.id} has no lines", event=ev.id)
    if len(items) > MAX_ITEMS_PER_EVENT:
        raise RequestRejected("invalid_batch", f"event {ev.id} has {len(items)} lines; at most {MAX_ITEMS_PER_EVENT}", event=ev.id)
    skus = [i.sku for i in items]
    if len(set(skus)) != len(skus):
        raise RequestRejected("invalid_batch", f"event {ev.id} lists a SKU twice", event=ev.id)


def screen_resident(ev: Any, step: Step) -> None:
    """The resident must exist; a retired one is reviewed."""
    status = step.view.residents.get(ev.resident)
    if status is None:
        raise reject(ev, f"resident {ev.resident} does not exist", resident=ev.resident)
    if status != "active":
        step.review("retired_reference", ev.id, ev.resident, {"resident": ev.resident})


def screen_operator(ev: Any, step: Step, supervisor: bool) -> None:
    """The operator a kiosk event names must be an active operator of the batch's shop (and
    a supervisor, for a kind that needs one); otherwise the event is applied and reviewed:
    a signed batch is never refused for it, but a stolen kiosk's invented or borrowed
    operators reach central staff."""
    op = step.view.operators.get(ev.operator)
    if op is not None and op.status == "active" and op.shop == step.shop and (not supervisor or op.role == "supervisor"):
        return  # the usual case, decided without building the review's detail
    resident = getattr(ev, "resident", None)
    detail = {"operator": ev.operator, "shop": step.shop}
    if op is None:
        step.review("operator_unknown", ev.id, resident, detail)
    elif op.status != "active":
        step.review("operator_retired", ev.id, resident, detail)
    elif op.shop != step.shop:
        step.review("operator_other_shop", ev.id, resident, detail | {"operator_shop": op.shop})
    elif supervisor and op.role != "supervisor":
        step.review("void_unauthorised", ev.id, resident, detail | {"role": op.role})


def screen_goods(ev: Any, skus: list[str], step: Step, resident: str | None = None) -> None:
    """Every SKU must exist; a retired one is reviewed."""
    for sku in skus:
        good = step.view.goods.get(sku)
        if good is None:
            raise reject(ev, f"SKU {sku} does not exist", sku=sku)
        if good.status != "active":
            step.review("retired_reference", ev.id, resident, {"sku": sku})

