"""Shift close: what this kiosk recorded since the shift opened, per operator and per rule
or goods, and the stock the operator counted against what the kiosk expects.

A shift is a range of this kiosk's own events by kseq (not by clock, which can be wrong).
Voided events and their voids cancel out of the totals and are counted separately, so the
totals are what the shop actually did. The report is shown on screen and saved as text
under ``<data>/shifts/``. Imports no Textual.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.i18n import t
from kiosk.receipts import pad
from sync import kinds
from sync.calendar import local_dt
from kiosk.files import private_folder, write_private_text


@dataclass
class OperatorTotals:
    events: int = 0
    awarded: int = 0  # points added under encouraged/basic rules
    deducted: int = 0  # points taken under prohibited rules (a positive number)
    redeemed: int = 0  # points spent on goods
    voids: int = 0


@dataclass
class ShiftReport:
    kiosk: str
    shop_name: str
    started_at: int | None
    closed_at: int
    first_kseq: int
    per_operator: dict[str, OperatorTotals] = field(default_factory=dict)
    per_rule: dict[str, tuple[int, int]] = field(default_factory=dict)  # code -> (count, points)
    per_good: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (qty out, points)
    received: dict[str, int] = field(default_factory=dict)  # sku -> qty delivered
    stock: list[tuple[str, int, int | None]] = field(default_factory=list)  # (sku, expected, counted)
    #: ("operator" | "rule" | "good", code) -> the name this kiosk mirrors: what the report prints
    names: dict[tuple[str, str], str] = field(default_factory=dict)

    def name(self, what: str, code: str) -> str:
        return self.names.get((what, code)) or code


def report(svc, counted: dict[str, int], now: int) -> ShiftReport:
    """Totals of the open shift; ``counted`` is what the operator counted per SKU. ``svc``
    is a KioskService."""
    first, started, events = svc.shift_events()
    rep = ShiftReport(svc.kiosk_id or "", svc.shop_name, started, now, first)
    voided = {kinds.lookup(tag).target(ev) for tag, ev in events if kinds.lookup(tag).reverses}
    ops: dict[str, OperatorTotals] = defaultdict(OperatorTotals)
    rules: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    goods: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for tag, ev in events:
        kind = kinds.lookup(tag)
        tot = ops[ev.operator]
        tot.events += 1
        if kind.reverses:
            tot.voids += 1
            continue
        if ev.id in voided:
            continue
        for line in kind.shift(ev):  # what the event's kind says it adds
            match line.section:
                case "operator":
                    setattr(tot, line.key, getattr(tot, line.key) + line.points)
                case "rule":
                    rules[line.key][0] += line.count
                    rules[line.key][1] += line.points
                case "good":
                    goods[line.key][0] += line.count
                    goods[line.key][1] += line.points
                case "received":
                    rep.received[line.key] = rep.received.get(line.key, 0) + line.count
                case _:
                    raise ValueError(f"kind {tag} adds to shift section {line.section!r}")
    rep.per_operator = dict(ops)
    rep.per_rule = {k: (v[0], v[1]) for k, v in sorted(rules.items())}
    rep.per_good = {k: (v[0], v[1]) for k, v in sorted(goods.items())}
    expected = svc.stock_available()
    rep.stock = [(sku, expected.get(sku, 0), counted.get(sku)) for sku in sorted(set(expected) | set(counted))]
    for what, codes_ in (("operator", rep.per_operator), ("rule", rep.per_rule),
                         ("good", set(rep.per_good) | set(rep.received) | {s for s, _, _ in rep.stock})):
        rep.names.update({(what, code): name for code, name in svc.names(what, codes_).items()})
    return rep


def render(rep: ShiftReport, lang: str) -> list[str]:
    when = local_dt(rep.closed_at).strftime("%Y-%m-%d %H:%M")
    since = local_dt(rep.started_at).strftime("%Y-%m-%d %H:%M") if rep.started_at else "—"
    out = [t("shift_title", lang), t("shift_header", lang, kiosk=rep.kiosk, shop=rep.shop_name, since=since, until=when), ""]
    out.append(t("shift_per_operator", lang))
    for op, tot in sorted(rep.per_operator.items()):
        out.append("  " + t("shift_operator_line", lang, operator=rep.name("operator", op), **tot.__dict__))
    out += ["", t("shift_per_rule", lang)]
    out += [f"  {pad(rep.name('rule', code), 20)} ×{n:<5} {pts:+d}" for code, (n, pts) in rep.per_rule.items()]
    out += ["", t("shift_per_good", lang)]
    out += [f"  {pad(rep.name('good', sku), 20)} ×{n:<5} {pts}" for sku, (n, pts) in rep.per_good.items()]
    if rep.received:
        out += ["", t("shift_received", lang)]
        out += [f"  {pad(rep.name('good', sku), 20)} ×{n}" for sku, n in sorted(rep.received.items())]
    out += ["", t("shift_stock", lang)]
    for sku, expected, counted in rep.stock:
        diff = "" if counted is None else f"{counted - expected:+d}"
        out.append(f"  {pad(rep.name('good', sku), 20)} {expected:>7} {'—' if counted is None else counted:>7} {diff:>6}")
    return out


def save(rep: ShiftReport, lang: str, data_dir: Path) -> Path:
    folder = private_folder(data_dir / "shifts")
    path = folder / f"shift-{rep.kiosk}-{local_dt(rep.closed_at).strftime('%Y%m%d-%H%M%S')}.txt"
    return write_private_text(path, "\n".join(render(rep, lang)) + "\n")
