"""``void``: reverses an earlier event of the same kiosk; nothing recorded is ever edited.

A void undoes exactly the postings and stock moves of its target. One that cannot (an
unknown target, a void, another kiosk's event, one already voided) is reviewed and moves
nothing. Its operator is the supervisor who authorised it. Everywhere else a void reads as its target's kind, with the sign turned.
"""

from schema.wire import Void
from sync.kinds.base import Columns, Kind, ReceiptPart, Step
from sync.postings import Posting, Refs, StockMove, Target


class VoidKind(Kind):
    tag = "void"
    wire = Void
    origin = "kiosk"
    reverses = True
    needs_supervisor = True  # the operator a void names is the supervisor who authorised it
    settles_as = "voided"

    def refs(self, ev: Void, refs: Refs) -> None:
        refs.targets.add(ev.target)

    def effects(self, ev: Void, shop: str):
        raise TypeError("effects() of a void: it reverses its target's")

    def target(self, ev: Void) -> str:
        return ev.target

    def plan(self, ev: Void, step: Step) -> None:
        from sync.kinds import lookup  # the registry imports this module

        target = step.targets.get(ev.target)
        problem = None
        if target is None:
            problem = "void_unknown_target"
        elif lookup(target.kind).reverses:
            problem = "void_of_void"
        elif target.kiosk != step.kiosk:
            problem = "void_foreign"
        elif target.voided:
            problem = "void_repeated"
        step.remember(ev.id, lambda: Target(self.tag, step.kiosk, (), (), False))
        if problem:
            step.review(problem, ev.id, None, {"target": ev.target})
            return
        for account, amount in target.postings:
            step.post(Posting(ev.id, account, -amount))
        for shop, sku, delta in target.stock:
            step.move(StockMove(ev.id, shop, sku, -delta))
        step.targets[ev.target] = Target(target.kind, target.kiosk, target.postings, target.stock, True)
        step.plan.voided.append(ev.target)

    def columns(self, ev: Void) -> Columns:
        # the resident is the target's: the recording kiosk passes it in
        return Columns(operator=ev.operator, target=ev.target)

    def receipt(self, ev: Void) -> ReceiptPart:
        return ReceiptPart(target=ev.target, note=ev.reason)


KIND = VoidKind()
