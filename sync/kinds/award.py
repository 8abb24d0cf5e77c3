"""``award``: points awarded (or deducted, under a prohibited-conduct rule) at a kiosk.

The rule must exist and its sign must match the points; a retired rule, a changed value
and an exceeded day or month cap are applied and reviewed.
"""

from schema.wire import Award
from sync.calendar import local_day, local_month
from sync.kinds.base import Columns, Kind, ReceiptLine, ReceiptPart, ShiftLine, Step, reject, screen_resident
from sync.postings import ISSUED, Posting, Refs, resident_account


def periods(card: str, rule: str, at: int) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The (day, month) cap counters an award at ``at`` increments."""
    return (card, rule, "D" + local_day(at)), (card, rule, "M" + local_month(at))


class AwardKind(Kind):
    tag = "award"
    wire = Award
    origin = "kiosk"
    on_board = True

    def refs(self, ev: Award, refs: Refs) -> None:
        refs.cards.add(ev.resident)
        refs.rules.add(ev.rule)
        refs.counts.extend(periods(ev.resident, ev.rule, ev.at))

    def effects(self, ev: Award, shop: str):
        return [Posting(ev.id, resident_account(ev.resident), ev.points), Posting(ev.id, ISSUED, -ev.points)], []

    def screen(self, ev: Award, step: Step) -> None:
        screen_resident(ev, step)
        view = step.view
        rule = view.rules.get(ev.rule)
        if rule is None:
            raise reject(ev, f"rule {ev.rule} does not exist", rule=ev.rule)
        if (rule.kind == "prohibited" and ev.points > 0) or (rule.kind != "prohibited" and ev.points < 0):
            raise reject(ev, f"{ev.points} points contradicts the {rule.kind} rule {ev.rule}", rule=ev.rule)
        if rule.status != "active":
            step.review("retired_reference", ev.id, ev.resident, {"rule": ev.rule})
        if ev.points != rule.points:
            step.review("rule_value_mismatch", ev.id, ev.resident, {"rule": ev.rule, "recorded": ev.points, "current": rule.points})
        for key, cap in zip(periods(ev.resident, ev.rule, ev.at), (rule.cap_day, rule.cap_month)):
            n = step.plan.counts[key] = view.counts[key] = view.counts.get(key, 0) + 1
            if cap is not None and n > cap:
                step.review("cap_exceeded", ev.id, ev.resident, {"rule": ev.rule, "period": key[2], "count": n, "cap": cap})

    def columns(self, ev: Award) -> Columns:
        return Columns(operator=ev.operator, resident=ev.resident)

    def receipt(self, ev: Award) -> ReceiptPart:
        return ReceiptPart(lines=[ReceiptLine(("rule", ev.rule), 1, ev.points)], note=ev.note)

    def shift(self, ev: Award) -> list[ShiftLine]:
        total = ShiftLine("operator", "awarded", 0, ev.points) if ev.points >= 0 else ShiftLine("operator", "deducted", 0, -ev.points)
        return [ShiftLine("rule", ev.rule, 1, ev.points), total]

    def issued_flow(self, rule_kind: str | None) -> tuple[str, bool]:
        return ("deducted" if rule_kind == "prohibited" else "earned"), True


KIND = AwardKind()
