"""``adjust``: a central correction or opening balance, recorded by the server in its own
signed chain, against ``programme:adjustments``."""

from schema.wire import Adjust
from sync.kinds.base import Columns, Kind, Step, screen_resident
from sync.postings import ADJUSTMENTS, Posting, Refs, resident_account


class AdjustKind(Kind):
    tag = "adjust"
    wire = Adjust
    origin = "central"

    def refs(self, ev: Adjust, refs: Refs) -> None:
        refs.cards.add(ev.resident)

    def effects(self, ev: Adjust, shop: str):
        return [Posting(ev.id, resident_account(ev.resident), ev.points), Posting(ev.id, ADJUSTMENTS, -ev.points)], []

    def screen(self, ev: Adjust, step: Step) -> None:
        screen_resident(ev, step)

    def columns(self, ev: Adjust) -> Columns:
        return Columns(operator=ev.staff, resident=ev.resident)


KIND = AdjustKind()
