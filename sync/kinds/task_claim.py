"""``task_claim``: a resident takes on a volunteer service task (mediation, repairs,
collecting residents' concerns) at a service station. Tasks are posted by staff
(``server.services.tasks``) and reach the kiosks of their community as feed kind ``task``.

No postings: the points come with the ``task_done`` that completes the claim. A kiosk
refuses up front what it can know is wrong (``refused``: an unknown, closed or full task,
one of another community, a second claim by the same resident). Offline kiosks may still
record one the server must refuse; a signed batch is never refused for it (a chain has no
gaps), so the event is kept as recorded, counts as no claim, and raises a ``task_refused``
review item whose ``reason`` says why. Whether a task was closed is decided by when the
server acknowledged the batch against when staff closed it (a batch acknowledged in a later
millisecond than the closing finds it closed), never by which was written first, so a
rebuild from the log decides the same. A server of an earlier release does not accept the kind, so a kiosk
records one only when its server's ``accepts`` row names it."""

from dataclasses import replace

from schema.wire import TaskClaim
from sync.kinds.base import Columns, Kind, ReceiptPart, Step, screen_resident
from sync.postings import Refs, TaskInfo  # noqa: F401 - TaskInfo is read from here too

#: why a claim or a completion does not count (``task_refused`` review items, kiosk errors)
REASONS = ("unknown", "other_community", "closed", "full", "claimed", "unclaimed", "done", "differs")


def refused(task: TaskInfo | None, card: str, community: str | None, at: int) -> str | None:
    """Why a claim by ``card`` (of ``community``, None: not known) of ``task``, acknowledged
    at ``at``, does not count (None: it does)."""
    if task is None:
        return "unknown"
    if task.community is not None and community is not None and community != task.community:
        return "other_community"
    if task.closed_at is not None and at > task.closed_at:
        return "closed"
    if any(c == card for c, _ in task.claims.values()):
        return "claimed"
    if task.slots is not None and len(task.claims) >= task.slots:
        return "full"
    return None


def review(step: Step, ev, reason: str, **detail) -> None:
    step.review("task_refused", ev.id, ev.resident, {"task": ev.task, "reason": reason, **detail})


class TaskClaimKind(Kind):
    tag = "task_claim"
    wire = TaskClaim
    origin = "kiosk"
    voidable = False  # a claim is answered by its completion; staff see a mistaken one as recorded

    def refs(self, ev: TaskClaim, refs: Refs) -> None:
        refs.cards.add(ev.resident)
        refs.tasks.add(ev.task)

    def screen(self, ev: TaskClaim, step: Step) -> None:
        screen_resident(ev, step)
        task = step.view.tasks.get(ev.task)
        reason = refused(task, ev.resident, step.view.homes.get(ev.resident), step.at)
        if reason is not None:
            review(step, ev, reason)
            return
        step.plan.claims.append((ev.id, ev.task, ev.resident))
        # a later event of the chunk finds the claim
        step.view.tasks[ev.task] = replace(task, claims={**task.claims, ev.id: (ev.resident, None)})

    def columns(self, ev: TaskClaim) -> Columns:
        return Columns(operator=ev.operator, resident=ev.resident)

    def receipt(self, ev: TaskClaim) -> ReceiptPart:
        return ReceiptPart(note=ev.task)


KIND = TaskClaimKind()
