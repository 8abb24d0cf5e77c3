"""``stock_in``: goods delivered to a kiosk's shop. Moves stock, no points."""

from schema.wire import StockIn
from sync.kinds.base import Columns, Kind, ReceiptLine, ReceiptPart, ShiftLine, Step, check_lines, screen_goods
from sync.postings import Refs, StockMove


class StockInKind(Kind):
    tag = "stock_in"
    wire = StockIn
    origin = "kiosk"
    moves_stock = True

    def refs(self, ev: StockIn, refs: Refs) -> None:
        refs.skus.update(i.sku for i in ev.items)

    def check(self, ev: StockIn) -> None:
        check_lines(ev)

    def effects(self, ev: StockIn, shop: str):
        return [], [StockMove(ev.id, shop, i.sku, i.qty) for i in ev.items]

    def screen(self, ev: StockIn, step: Step) -> None:
        screen_goods(ev, [i.sku for i in ev.items], step)

    def columns(self, ev: StockIn) -> Columns:
        return Columns(operator=ev.operator)

    def receipt(self, ev: StockIn) -> ReceiptPart:
        return ReceiptPart(lines=[ReceiptLine(("good", s.sku), s.qty, s.qty) for s in ev.items], note=ev.note,
                           resident=False, quantities_only=True)

    def shift(self, ev: StockIn) -> list[ShiftLine]:
        return [ShiftLine("received", line.sku, line.qty) for line in ev.items]


KIND = StockInKind()
