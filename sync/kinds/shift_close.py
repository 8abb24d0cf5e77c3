"""``shift_close``: a kiosk's shift report, sent with the next sync so central staff see
the stock the operator counted against what the kiosk expected. No postings, no stock
moves; the server keeps it as an event (``GET /api/shifts``, the ``shifts`` report).
A server of the release before does not accept it, so a kiosk records one only when its
server's ``accepts`` row names it (``kiosk.recording``)."""

from schema.wire import ShiftClose
from sync.kinds.base import Columns, Kind, ReceiptPart, Step, reject
from sync.postings import Refs


class ShiftCloseKind(Kind):
    tag = "shift_close"
    wire = ShiftClose
    origin = "kiosk"
    voidable = False

    def refs(self, ev: ShiftClose, refs: Refs) -> None:
        refs.skus.update(c.sku for c in ev.counts)

    def check(self, ev: ShiftClose) -> None:
        skus = [c.sku for c in ev.counts]
        if len(set(skus)) != len(skus):
            raise reject(ev, "each SKU is counted once in a shift report")
        if ev.first_kseq > ev.kseq:
            raise reject(ev, f"the shift starts at event {ev.first_kseq}, after the report itself ({ev.kseq})")

    def screen(self, ev: ShiftClose, step: Step) -> None:
        # a SKU that never existed rejects the batch; a retired one counted is no conflict
        for c in ev.counts:
            if step.view.goods.get(c.sku) is None:
                raise reject(ev, f"SKU {c.sku} does not exist", sku=c.sku)

    def columns(self, ev: ShiftClose) -> Columns:
        return Columns(operator=ev.operator)

    def receipt(self, ev: ShiftClose) -> ReceiptPart:
        return ReceiptPart(resident=False, quantities_only=True)


KIND = ShiftCloseKind()
