"""``task_done``: the station records a claimed volunteer task done, and the award follows
from the task: the resident earns the task's points under the task's rule, posted by this
event (so every such point traces to the claim and the task it names). The kiosk copies
``rule`` and ``points`` from its mirror of the task (feed kind ``task``); the operator types
none of them.

A completion that does not match (``refused``: an unknown task, no claim of this resident
under ``claim``, a claim already done, a rule or points that are not the task's) is kept as
recorded, posts nothing, and raises a ``task_refused`` review item (``applied`` 0, which
``audit`` reads as it reads ``award_value_unknown``); the kiosk refuses what it can know."""

from dataclasses import replace

from schema.wire import TaskDone
from sync.kinds.base import Columns, Kind, ReceiptLine, ReceiptPart, ShiftLine, Step, screen_resident
from sync.kinds.task_claim import review
from sync.postings import ISSUED, Posting, Refs, TaskInfo, Target, resident_account


def refused(task: TaskInfo | None, card: str, claim: str, rule: str, points: int) -> str | None:
    """Why a completion by ``card`` of its claim ``claim`` of ``task`` awarding ``points``
    under ``rule`` does not count (None: it does)."""
    if task is None:
        return "unknown"
    mine = task.claims.get(claim)
    if mine is None or mine[0] != card:
        return "unclaimed"
    if mine[1] is not None:
        return "done"
    if (rule, points) != (task.rule, task.points):
        return "differs"
    return None


def postings(ev: TaskDone) -> list[Posting]:
    return [Posting(ev.id, resident_account(ev.resident), ev.points), Posting(ev.id, ISSUED, -ev.points)]


class TaskDoneKind(Kind):
    tag = "task_done"
    wire = TaskDone
    origin = "kiosk"
    on_board = True  # the task's points are earned like an award's
    voidable = False  # the work was done; a mistake is corrected centrally

    def refs(self, ev: TaskDone, refs: Refs) -> None:
        refs.cards.add(ev.resident)
        refs.rules.add(ev.rule)
        refs.tasks.add(ev.task)

    def effects(self, ev: TaskDone, shop: str):
        return postings(ev), []

    def plan(self, ev: TaskDone, step: Step) -> None:
        screen_resident(ev, step)
        task = step.view.tasks.get(ev.task)
        reason = refused(task, ev.resident, ev.claim, ev.rule, ev.points)
        if reason is not None:
            detail = {"claim": ev.claim, "applied": 0, "recorded": ev.points}
            if task is not None and reason == "differs":
                detail |= {"rule": ev.rule, "task_rule": task.rule, "task_points": task.points}
            review(step, ev, reason, **detail)
            step.remember(ev.id, lambda: Target(self.tag, step.kiosk, (), (), False))
            return
        for p in postings(ev):
            step.post(p)
        step.plan.dones.append((ev.claim, ev.id, ev.task))
        step.view.tasks[ev.task] = replace(task, claims={**task.claims, ev.claim: (ev.resident, ev.id)})
        step.remember(ev.id, lambda: self.target_of(ev, step.kiosk, step.shop))

    def columns(self, ev: TaskDone) -> Columns:
        return Columns(operator=ev.operator, resident=ev.resident)

    def receipt(self, ev: TaskDone) -> ReceiptPart:
        return ReceiptPart(lines=[ReceiptLine(("rule", ev.rule), 1, ev.points)], note=ev.task)

    def shift(self, ev: TaskDone) -> list[ShiftLine]:
        return [ShiftLine("rule", ev.rule, 1, ev.points), ShiftLine("operator", "awarded", 0, ev.points)]

    def issued_flow(self, rule_kind: str | None) -> tuple[str, bool]:
        return "earned", True


KIND = TaskDoneKind()
