"""``award``: points awarded (or deducted, under a prohibited-conduct rule) at a kiosk.

The rule must exist and its sign must match the points; a retired rule, a changed value
and an exceeded day or month cap are applied and reviewed. Points that match no value the
rule has ever had (a stolen kiosk's 1,000,000 for a 10-point rule) are applied at the
rule's current value only; the difference is a review item (``award_value_unknown``) that
posts nothing unless staff resolve it with an adjustment, so it is never spendable first.
"""

from schema.wire import Award
from sync.calendar import local_day_and_month
from sync.kinds.base import Columns, Kind, ReceiptLine, ReceiptPart, ShiftLine, Step, reject, screen_resident
from sync.postings import ISSUED, Posting, Refs, RuleInfo, Target, View, resident_account


def periods(card: str, rule: str, at: int) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The (day, month) cap counters an award at ``at`` increments."""
    day, month = local_day_and_month(at)
    return (card, rule, "D" + day), (card, rule, "M" + month)


def postings(ev: Award, points: int) -> list[Posting]:
    return [Posting(ev.id, resident_account(ev.resident), points), Posting(ev.id, ISSUED, -points)]


def contradicts(rule: RuleInfo, points: int) -> bool:
    """Points whose sign the rule's kind forbids (a deduction under a rule that rewards, or
    the reverse): no honest kiosk records them."""
    return (rule.kind == "prohibited" and points > 0) or (rule.kind != "prohibited" and points < 0)


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
        return postings(ev, ev.points), []

    def plan(self, ev: Award, step: Step) -> None:
        self.screen(ev, step)
        rule = step.view.rules[ev.rule]
        applied = ev.points if rule.has_had(ev.points) else rule.points
        posts = postings(ev, applied)
        for p in posts:
            step.post(p)
        step.remember(ev.id, lambda: Target(self.tag, step.kiosk, tuple((p.account, p.amount) for p in posts), (), False))

    def refused(self, ev: Award, view: View) -> bool:
        rule = view.rules.get(ev.rule)
        return rule is not None and contradicts(rule, ev.points)

    def screen(self, ev: Award, step: Step) -> None:
        screen_resident(ev, step)
        view = step.view
        rule = view.rules.get(ev.rule)
        if rule is None:
            raise reject(ev, f"rule {ev.rule} does not exist", rule=ev.rule)
        if contradicts(rule, ev.points):
            raise reject(ev, f"{ev.points} points contradicts the {rule.kind} rule {ev.rule}", rule=ev.rule)
        if rule.status != "active":
            step.review("retired_reference", ev.id, ev.resident, {"rule": ev.rule})
        if not rule.has_had(ev.points):
            step.review("award_value_unknown", ev.id, ev.resident,
                        {"rule": ev.rule, "recorded": ev.points, "applied": rule.points, "difference": ev.points - rule.points})
        elif ev.points != rule.points:
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
