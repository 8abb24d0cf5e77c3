"""Ledger rules: how each event becomes double-entry postings, and what central staff must
review. Pure: the server hands in a ``View`` of the state the batch touches and receives a
``Plan`` to persist in one transaction; the kiosk uses the same rules for its pending view.

Accounts: ``resident:<card>`` (a resident's points), ``programme:issued`` (where awarded
points come from), ``shop:<id>`` (points taken in by a shop, what settlement pays out),
``programme:adjustments`` (central corrections), ``programme:writeoff`` (overdrafts the
programme wrote off; a ``charge`` against a shop posts to ``shop:<id>`` instead). Every event's postings sum to zero; a
balance is the sum of an account's postings, and a stored balance is a cache of that fold.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from schema.wire import Adjust, Award, CentralEvent, Charge, KioskEvent, Redeem, StockAdjust, StockIn, Void
from sync.calendar import local_day, local_month
from sync.protocol import RequestRejected

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


@dataclass(frozen=True)
class GoodInfo:
    price: int
    status: str


@dataclass(frozen=True)
class Target:
    """An earlier event a void may reverse, with the effects to undo."""

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


@dataclass
class Plan:
    postings: list[Posting] = field(default_factory=list)
    stock_moves: list[StockMove] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)  # new values of touched accounts
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    voided: list[str] = field(default_factory=list)


def references(events: Iterable[KioskEvent]) -> tuple[set[str], set[str], set[str], set[str]]:
    """(cards, rules, skus, void targets) a batch refers to: what the caller must fetch."""
    cards, rules, skus, targets = set(), set(), set(), set()
    for ev in events:
        if isinstance(ev, Award):
            cards.add(ev.resident)
            rules.add(ev.rule)
        elif isinstance(ev, Redeem):
            cards.add(ev.resident)
            skus.update(i.sku for i in ev.items)
        elif isinstance(ev, StockIn):
            skus.update(i.sku for i in ev.items)
        elif isinstance(ev, Void):
            targets.add(ev.target)
        elif isinstance(ev, (Adjust, Charge)):
            cards.add(ev.resident)
        elif isinstance(ev, StockAdjust):
            skus.add(ev.sku)
    return cards, rules, skus, targets


def periods(card: str, rule: str, at: int) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The (day, month) cap counters an award at ``at`` increments."""
    return (card, rule, "D" + local_day(at)), (card, rule, "M" + local_month(at))


def effects(ev: KioskEvent | CentralEvent, shop: str) -> tuple[list[Posting], list[StockMove]]:
    """Postings and stock moves of one non-void event. Postings sum to zero."""
    if isinstance(ev, Adjust):
        acct = resident_account(ev.resident)
        return [Posting(ev.id, acct, ev.points), Posting(ev.id, ADJUSTMENTS, -ev.points)], []
    if isinstance(ev, Charge):
        counter = shop_account(ev.shop or "") if ev.against == "shop" else WRITEOFF
        return [Posting(ev.id, resident_account(ev.resident), ev.points), Posting(ev.id, counter, -ev.points)], []
    if isinstance(ev, StockAdjust):
        return [], [StockMove(ev.id, ev.shop, ev.sku, ev.delta)]
    if isinstance(ev, Award):
        acct = resident_account(ev.resident)
        return [Posting(ev.id, acct, ev.points), Posting(ev.id, ISSUED, -ev.points)], []
    if isinstance(ev, Redeem):
        return (
            [Posting(ev.id, resident_account(ev.resident), -ev.total), Posting(ev.id, shop_account(shop), ev.total)],
            [StockMove(ev.id, shop, i.sku, -i.qty) for i in ev.items],
        )
    if isinstance(ev, StockIn):
        return [], [StockMove(ev.id, shop, i.sku, i.qty) for i in ev.items]
    raise TypeError(f"effects() of {type(ev).__name__}: voids reverse a target")


def target_of(ev: KioskEvent | CentralEvent, kiosk: str, shop: str) -> Target:
    posts, moves = effects(ev, shop)
    return Target(
        kind=type(ev).__name__.lower(),
        kiosk=kiosk,
        postings=tuple((p.account, p.amount) for p in posts),
        stock=tuple((m.shop, m.sku, m.delta) for m in moves),
        voided=False,
    )


def _reject(ev: KioskEvent, message: str, **detail) -> RequestRejected:
    return RequestRejected("invalid_batch", f"event {ev.id}: {message}", event=ev.id, **detail)


def plan_batch(events: list[KioskEvent | CentralEvent], kiosk: str, shop: str, view: View) -> Plan:
    """Turn a verified, structurally valid batch into postings, stock moves and reviews.

    Raises ``RequestRejected('invalid_batch')`` for what no honest kiosk can send (a
    reference that never existed, a duplicate id, a sign that contradicts the rule kind).
    Business conflicts never reject: they are applied and reviewed.
    """
    plan = Plan()
    bal = view.balances
    stock = view.stock
    targets = dict(view.targets)

    def post(p: Posting) -> None:
        plan.postings.append(p)
        plan.balances[p.account] = bal[p.account] = bal.get(p.account, 0) + p.amount

    def move(m: StockMove) -> None:
        plan.stock_moves.append(m)
        key = (m.shop, m.sku)
        plan.stock[key] = stock[key] = stock.get(key, 0) + m.delta

    for ev in events:
        if ev.id in view.known_ids:
            raise _reject(ev, "this event id is already recorded")
        if isinstance(ev, Void):
            _plan_void(ev, kiosk, targets, plan, post, move)
            continue
        if isinstance(ev, (Award, Redeem, Adjust, Charge)):
            status = view.residents.get(ev.resident)
            if status is None:
                raise _reject(ev, f"resident {ev.resident} does not exist", resident=ev.resident)
            if status != "active":
                plan.reviews.append(Review("retired_reference", ev.id, ev.resident, {"resident": ev.resident}))
        if isinstance(ev, Award):
            _plan_award(ev, view, plan)
        elif isinstance(ev, (Redeem, StockIn, StockAdjust)):
            skus = [ev.sku] if isinstance(ev, StockAdjust) else [i.sku for i in ev.items]
            for sku in skus:
                good = view.goods.get(sku)
                if good is None:
                    raise _reject(ev, f"SKU {sku} does not exist", sku=sku)
                if good.status != "active":
                    plan.reviews.append(Review("retired_reference", ev.id, getattr(ev, "resident", None), {"sku": sku}))
            if isinstance(ev, Redeem):
                for i in ev.items:
                    if i.price != view.goods[i.sku].price:
                        plan.reviews.append(Review("price_mismatch", ev.id, ev.resident, {"sku": i.sku, "recorded": i.price, "current": view.goods[i.sku].price}))
        posts, moves = effects(ev, shop)
        for p in posts:
            post(p)
        for m in moves:
            move(m)
        targets[ev.id] = target_of(ev, kiosk, shop)
        if isinstance(ev, Redeem):
            after = bal[resident_account(ev.resident)]
            if after < 0:
                plan.reviews.append(Review("overdraft", ev.id, ev.resident, {"balance_after": after, "total": ev.total, "shop": shop}))
            for m in moves:
                qty = stock[(m.shop, m.sku)]
                if qty < 0:
                    plan.reviews.append(Review("stock_negative", ev.id, ev.resident, {"shop": m.shop, "sku": m.sku, "qty_after": qty}))
    return plan


def _plan_award(ev: Award, view: View, plan: Plan) -> None:
    rule = view.rules.get(ev.rule)
    if rule is None:
        raise _reject(ev, f"rule {ev.rule} does not exist", rule=ev.rule)
    if (rule.kind == "prohibited" and ev.points > 0) or (rule.kind != "prohibited" and ev.points < 0):
        raise _reject(ev, f"{ev.points} points contradicts the {rule.kind} rule {ev.rule}", rule=ev.rule)
    if rule.status != "active":
        plan.reviews.append(Review("retired_reference", ev.id, ev.resident, {"rule": ev.rule}))
    if ev.points != rule.points:
        plan.reviews.append(Review("rule_value_mismatch", ev.id, ev.resident, {"rule": ev.rule, "recorded": ev.points, "current": rule.points}))
    for key, cap in zip(periods(ev.resident, ev.rule, ev.at), (rule.cap_day, rule.cap_month)):
        n = plan.counts[key] = view.counts[key] = view.counts.get(key, 0) + 1
        if cap is not None and n > cap:
            plan.reviews.append(Review("cap_exceeded", ev.id, ev.resident, {"rule": ev.rule, "period": key[2], "count": n, "cap": cap}))


def _plan_void(ev: Void, kiosk: str, targets: dict[str, Target], plan: Plan, post, move) -> None:
    target = targets.get(ev.target)
    problem = None
    if target is None:
        problem = "void_unknown_target"
    elif target.kind == "void":
        problem = "void_of_void"
    elif target.kiosk != kiosk:
        problem = "void_foreign"
    elif target.voided:
        problem = "void_repeated"
    if problem:
        plan.reviews.append(Review(problem, ev.id, None, {"target": ev.target}))
        targets[ev.id] = Target("void", kiosk, (), (), False)
        return
    for account, amount in target.postings:
        post(Posting(ev.id, account, -amount))
    for shop, sku, delta in target.stock:
        move(StockMove(ev.id, shop, sku, -delta))
    targets[ev.target] = Target(target.kind, target.kiosk, target.postings, target.stock, True)
    targets[ev.id] = Target("void", kiosk, (), (), False)
    plan.voided.append(ev.target)


def fold(postings: Iterable[Posting]) -> dict[str, int]:
    """Balances as a fold over postings: the definition every cache is checked against."""
    out: dict[str, int] = {}
    for p in postings:
        out[p.account] = out.get(p.account, 0) + p.amount
    return out
