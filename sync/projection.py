"""The ledger as a projection of the signed log: the one pure fold from acknowledged batches
to the rows of the ledger.

The server acknowledges a batch by appending it to its log (``server.services.push``); the
projector (``server.services.projector``) reads the log in order, a chunk at a time, fetches
the state the chunk touches as values (a ``View``: balances, stock, cap counters, void
targets, and the reference data the reviews read) and hands both to ``fold``, which returns
every row to write: events, postings with the balance deltas they make, stock moves and
stock deltas, cap counters, voids, review items, the feed records of what moved, and the
residents' letters and the ratings that count (``Voiced``: the projector stores them through
``server.services.voice``). The same
fold rebuilds the whole ledger from the log (``jifen-server reproject``) and re-derives a
batch's postings for ``audit`` (``rederive``). No I/O here.

``refusal`` is the part of the rules that must refuse a batch rather than review it — a
reference that never existed, points whose sign contradicts their rule — checked for the
whole batch at once (set differences) when it is acknowledged, before it is logged, so the
projector never meets a batch it cannot apply.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from schema.wire import BalanceRec, StockRec
from sync import codec, kinds
from sync.ledger import (
    ADJUSTMENTS,
    ISSUED,
    GoodInfo,
    Plan,
    Posting,
    Refs,
    RuleInfo,
    StockMove,
    Target,
    View,
    plan_batch,
    references,
    resident_account,
    shop_account,
)
from sync.postings import TaskInfo, VoiceInfo
from sync.protocol import RequestRejected

RESIDENT_PREFIX = resident_account("")


@dataclass(frozen=True)
class Logged:
    """One acknowledged batch as the projector reads it from the log: its position, the
    kiosk and the shop it was recorded at (``''`` for the central chain), its seq, when it
    was acknowledged, and its events decoded from the signed bytes."""

    pos: int
    kiosk: str
    shop: str
    seq: int
    at: int
    events: tuple


@dataclass
class Needs:
    """What a chunk refers to: what the projector must read into its ``View``."""

    refs: Refs
    accounts: set[str]
    stock: set[tuple[str, str]]


def needs(batches: list[Logged]) -> Needs:
    refs = Refs()
    accounts = {ISSUED, ADJUSTMENTS}
    stock: set[tuple[str, str]] = set()
    for b in batches:
        r = references(b.events)
        refs.cards |= r.cards
        refs.rules |= r.rules
        refs.skus |= r.skus
        refs.targets |= r.targets
        refs.stock |= r.stock
        refs.counts += r.counts
        refs.operators |= r.operators
        refs.voices |= r.voices
        refs.tasks |= r.tasks
        accounts.add(shop_account(b.shop))
        stock |= {(b.shop, sku) for sku in r.skus}
    refs.targets -= {ev.id for b in batches for ev in b.events}  # voids of events in the chunk itself
    accounts |= {resident_account(c) for c in refs.cards}
    return Needs(refs, accounts, stock | refs.stock)


def with_targets(n: Needs, targets: dict[str, Target]) -> Needs:
    """``n`` plus the accounts and stock the void targets read from the ledger would undo."""
    for t in targets.values():
        n.accounts.update(a for a, _ in t.postings)
        n.stock.update((s, k) for s, k, _ in t.stock)
    return n


#: the kinds whose events the residents' voice stores (letters and requests, and ratings)
VOICE_KINDS = frozenset({"voice", "voice_rating"})


@dataclass(frozen=True)
class Voiced:
    """What one batch gives the residents' voice: its ``voice`` and ``voice_rating`` events
    and the ratings that count (tracking code -> (event, stars)), with the batch's kiosk,
    shop and acknowledgement time."""

    kiosk: str
    shop: str
    at: int
    events: tuple
    ratings: dict[str, tuple[str, int]]


@dataclass
class Rows:
    """What folding a chunk writes, in the order it is to be written."""

    events: list[dict] = field(default_factory=list)
    postings: list[tuple[str, str, int, int]] = field(default_factory=list)  # (event, account, amount, at)
    balance_deltas: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stock_moves: list[tuple[str, str, str, int]] = field(default_factory=list)  # (event, shop, sku, delta)
    stock_deltas: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # new values
    voids: list[tuple[str, str]] = field(default_factory=list)  # (target, void)
    reviews: list[tuple] = field(default_factory=list)  # (kind, at, kiosk, event, resident, shop, detail)
    balances: dict[str, int] = field(default_factory=dict)  # card -> points after the chunk
    stock: dict[tuple[str, str], int] = field(default_factory=dict)  # (shop, sku) -> qty after the chunk
    voice: list[Voiced] = field(default_factory=list)  # batches with letters or ratings, in log order
    claims: list[dict] = field(default_factory=list)  # task_claims rows: the claims that count
    dones: list[tuple[str, str, int]] = field(default_factory=list)  # (claim, done event, done at)
    tasks: set[str] = field(default_factory=set)  # tasks whose claims moved (their feed rows)
    batches: list[tuple[str, int]] = field(default_factory=list)  # (kiosk, seq), in log order
    last: int = 0  # the log position the chunk ends at

    def feed(self) -> list[tuple[str, list]]:
        """The feed records of every balance and stock line the chunk moved, by kind."""
        return [("balance", [BalanceRec(card=c, points=p) for c, p in sorted(self.balances.items())]),
                ("stock", [StockRec(shop=s, sku=k, qty=q) for (s, k), q in sorted(self.stock.items())])]


class Unprojectable(Exception):
    """An acknowledged batch the rules refuse: ``refusal`` let through what it should not
    have, or the reference data lost a row it named. Nothing of the chunk is written."""

    def __init__(self, batch: Logged, exc: RequestRejected):
        super().__init__(f"batch {batch.seq} of kiosk {batch.kiosk} (log position {batch.pos}) cannot be projected: {exc.message}")
        self.batch = batch


def fold(batches: list[Logged], view: View) -> Rows:
    """Fold ``batches`` (consecutive, in log order) into the rows to write. ``view`` holds
    the state they need as values and is moved by them as they go (a later batch of the
    chunk sees an earlier one's effects); the rows carry the new values of what moved."""
    rows = Rows()
    targets = dict(view.targets)
    wanted = voided_in(batches)
    touched: set[str] = set()
    for b in batches:
        try:
            plan = plan_batch(list(b.events), b.kiosk, b.shop, view, targets, wanted, b.at)
        except RequestRejected as exc:
            raise Unprojectable(b, exc) from None
        at_of = _write_events(rows, b)
        for p in plan.postings:
            rows.postings.append((p.event, p.account, p.amount, at_of[p.event]))
            rows.balance_deltas[p.account] += p.amount
            if p.account.startswith(RESIDENT_PREFIX):
                touched.add(p.account)
        for m in plan.stock_moves:
            rows.stock_moves.append((m.event, m.shop, m.sku, m.delta))
            rows.stock_deltas[(m.shop, m.sku)] += m.delta
        rows.counts.update(plan.counts)
        rows.voids += voids_applied(b.events, plan)
        for r in plan.reviews:
            rows.reviews.append((r.kind, b.at, b.kiosk, r.event, r.resident, b.shop or r.detail.get("shop"), r.detail))
        _voiced(rows, b, plan, view)
        _tasked(rows, b, plan, at_of)
        rows.batches.append((b.kiosk, b.seq))
        rows.last = b.pos
    rows.balances = {a[len(RESIDENT_PREFIX):]: view.balances[a] for a in sorted(touched)}
    rows.stock = {k: view.stock[k] for k in sorted(rows.stock_deltas)}
    return rows


def voided_in(batches: list[Logged]) -> set[str]:
    """The ids the chunk's reversing events name: the only events of the chunk whose effects
    the planner keeps as void targets."""
    kind_of = kinds.kind_of
    return {t for b in batches for ev in b.events if (t := kind_of(ev).target(ev)) is not None}


def _voiced(rows: Rows, b: Logged, plan: Plan, view: View) -> None:
    """The letters and ratings of ``b``; a letter is an open item for the ratings of later
    batches in the chunk, as it would be once stored."""
    voiced = tuple(ev for ev in b.events if kinds.tag_of(ev) in VOICE_KINDS)
    if not voiced:
        return
    rows.voice.append(Voiced(b.kiosk, b.shop, b.at, voiced, dict(plan.ratings)))
    for ev in voiced:
        if kinds.tag_of(ev) == "voice":
            view.voices[ev.code] = VoiceInfo(ev.resident, "open", None)


def _tasked(rows: Rows, b: Logged, plan: Plan, at_of: dict[str, int]) -> None:
    """The volunteer task claims and completions of ``b`` that count."""
    for claim, task, card in plan.claims:
        rows.claims.append({"claim": claim, "task": task, "resident": card, "kiosk": b.kiosk, "at": at_of[claim],
                            "received_at": b.at})
        rows.tasks.add(task)
    for claim, done, task in plan.dones:
        rows.dones.append((claim, done, at_of[done]))
        rows.tasks.add(task)


def _write_events(rows: Rows, b: Logged) -> dict[str, int]:
    """Each event of ``b`` as its row, under the columns its kind names; returns id -> at."""
    at_of = {}
    for ev in b.events:
        kind = kinds.kind_of(ev)
        cols = kind.columns(ev)
        rows.events.append({
            "id": ev.id, "kiosk": b.kiosk, "batch_seq": b.seq, "kseq": ev.kseq, "kind": kind.tag, "at": ev.at,
            "received_at": b.at, "resident": cols.resident, "operator": cols.operator,
            "shop": cols.shop or b.shop or None, "body": codec.encode(ev),
        })
        at_of[ev.id] = ev.at
    return at_of


def voids_applied(events, plan: Plan) -> list[tuple[str, str]]:
    """(target, void id) for each void the plan actually applied: the first void of each
    target in batch order (a repeated void is only reviewed)."""
    if not plan.voided:
        return []
    remaining = list(plan.voided)
    out = []
    for ev in events:
        target = kinds.kind_of(ev).target(ev)
        if target is not None and target in remaining:
            remaining.remove(target)
            out.append((target, ev.id))
    return out


# ---------------------------------------------------------------- refusal, at acknowledgement


def refusal(events: list, kiosk: str, shop: str, view: View, refs: Refs | None = None) -> None:
    """Raise ``RequestRejected`` for what must refuse the batch (``view``: the residents,
    rules and goods it names, as they exist; ``refs``: ``references(events)``, when the
    caller already has them). Set-based: the batch's references against what exists, and
    each kind's own ``refused`` rule; only a batch found wanting is walked event by event,
    to name its first problem exactly as the planner does."""
    refs = references(events) if refs is None else refs
    if (refs.cards <= view.residents.keys() and refs.rules <= view.rules.keys() and refs.skus <= view.goods.keys()
            and not any(kinds.kind_of(ev).refused(ev, view) for ev in events)):
        return
    plan_batch(events, kiosk, shop, View(residents=view.residents, rules=view.rules, goods=view.goods))
    raise RequestRejected("invalid_batch", f"a batch of kiosk {kiosk} names what does not exist", kiosk=kiosk)


# ---------------------------------------------------------------- re-deriving for audit


def rederive(events: list, kiosk: str, shop: str, targets: dict[str, Target], voided: set[str],
             applied: dict[str, int] | None = None) -> tuple[list[Posting], list[StockMove]]:
    """The postings and stock moves projecting ``events`` wrote, re-derived through ``fold``
    from the events alone: what ``audit`` compares the stored ones with. Balances, rules and
    goods decide reviews, never what is posted, so the view is made to accept every event as
    recorded — except an award ``applied`` names (event id -> the points it was applied at,
    as its ``award_value_unknown`` review item says). ``targets``: the earlier events the
    voids name, as stored; ``voided``: those already undone before (updated here)."""
    applied = applied or {}
    # a completion the projection refused posted nothing (its ``task_refused`` item says
    # ``applied`` 0): left out, and every other one accepted against the task it names
    events = [ev for ev in events if not (kinds.tag_of(ev) == "task_done" and applied.get(ev.id) == 0)]
    refs = references(events)
    recorded: dict[str, set[int]] = defaultdict(set)
    at_value: dict[str, int] = {}
    for ev in events:  # the rules an event names (an award's), and the points it recorded under them
        named = Refs()
        kinds.kind_of(ev).refs(ev, named)
        for rule in named.rules:
            if ev.id in applied:
                at_value[rule] = applied[ev.id]
            else:
                recorded[rule].add(ev.points)
    rules = {}
    for rule in refs.rules:
        values = frozenset(recorded[rule])
        points = at_value.get(rule, next(iter(values), 0))
        signs = values | {points}
        rules[rule] = RuleInfo("prohibited" if min(signs) < 0 else "basic", points, "active", values=values)
    view = View(
        residents={c: "active" for c in refs.cards},
        rules=rules,
        goods={s: GoodInfo(0, "active") for s in refs.skus},
        # a stored target reads as voided once any void undid it — this batch's own too: it is
        # voided before this batch only if ``voided`` says so
        targets={t: Target(v.kind, v.kiosk, v.postings, v.stock, t in voided) for t, v in targets.items()},
        tasks=_accepting_tasks(events),
    )
    rows = fold([Logged(0, kiosk, shop, 0, 0, tuple(events))], view)
    voided.update(t for t, _ in rows.voids)
    return ([Posting(e, a, n) for e, a, n, _ in rows.postings], [StockMove(e, s, k, d) for e, s, k, d in rows.stock_moves])


def _accepting_tasks(events: list) -> dict[str, TaskInfo]:
    """Tasks under which every claim and completion of ``events`` counts as recorded."""
    tasks: dict[str, TaskInfo] = {}
    for ev in events:
        tag = kinds.tag_of(ev)
        if tag == "task_done":
            t = tasks.get(ev.task) or TaskInfo(None, ev.rule, ev.points, None, None)
            tasks[ev.task] = TaskInfo(None, ev.rule, ev.points, None, None, {**t.claims, ev.claim: (ev.resident, None)})
        elif tag == "task_claim":
            tasks.setdefault(ev.task, TaskInfo(None, "", 0, None, None))
    return tasks
