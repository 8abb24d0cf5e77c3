"""``charge``: a central resolution crediting a resident's overdraft against the shop it
happened at or the programme's write-off account (server chain)."""

from schema.wire import Charge
from sync.kinds.base import Columns, Kind, Step, screen_resident
from sync.postings import WRITEOFF, Posting, Refs, resident_account, shop_account


class ChargeKind(Kind):
    tag = "charge"
    wire = Charge
    origin = "central"
    settles_as = "charged"

    def refs(self, ev: Charge, refs: Refs) -> None:
        refs.cards.add(ev.resident)

    def effects(self, ev: Charge, shop: str):
        counter = shop_account(ev.shop or "") if ev.against == "shop" else WRITEOFF
        return [Posting(ev.id, resident_account(ev.resident), ev.points), Posting(ev.id, counter, -ev.points)], []

    def screen(self, ev: Charge, step: Step) -> None:
        screen_resident(ev, step)

    def columns(self, ev: Charge) -> Columns:
        # stored under the central batch's shop (none): the shop it names is the account's
        return Columns(operator=ev.staff, resident=ev.resident)


KIND = ChargeKind()
