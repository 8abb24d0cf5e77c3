"""``stock_adjust``: a central correction of a shop's stock (opening stock, a count, a
write-off), recorded by the server in its own chain; it names its shop itself."""

from schema.wire import StockAdjust
from sync.kinds.base import Columns, Kind, Step, screen_goods
from sync.postings import Refs, StockMove


class StockAdjustKind(Kind):
    tag = "stock_adjust"
    wire = StockAdjust
    origin = "central"

    def refs(self, ev: StockAdjust, refs: Refs) -> None:
        refs.skus.add(ev.sku)
        refs.stock.add((ev.shop, ev.sku))

    def effects(self, ev: StockAdjust, shop: str):
        return [], [StockMove(ev.id, ev.shop, ev.sku, ev.delta)]

    def screen(self, ev: StockAdjust, step: Step) -> None:
        screen_goods(ev, [ev.sku], step)

    def columns(self, ev: StockAdjust) -> Columns:
        return Columns(operator=ev.staff, shop=ev.shop)


KIND = StockAdjustKind()
