"""``redeem``: goods handed to a resident for points at a kiosk's shop.

Lines must be well formed and their total right; unknown goods reject the batch. A price
that changed, an overdraft and stock going negative are applied and reviewed.
"""

from schema.wire import Redeem
from sync.kinds.base import Columns, Kind, ReceiptLine, ReceiptPart, ShiftLine, Step, check_lines, screen_goods, screen_resident
from sync.postings import Posting, Refs, StockMove, resident_account, shop_account
from sync.protocol import RequestRejected


class RedeemKind(Kind):
    tag = "redeem"
    wire = Redeem
    origin = "kiosk"
    moves_stock = True
    settles_as = "redeemed"
    hands_out_goods = True

    def refs(self, ev: Redeem, refs: Refs) -> None:
        refs.cards.add(ev.resident)
        refs.skus.update(i.sku for i in ev.items)

    def check(self, ev: Redeem) -> None:
        check_lines(ev)
        total = sum(i.qty * i.price for i in ev.items)
        if total != ev.total:
            raise RequestRejected("invalid_batch", f"event {ev.id}: total {ev.total} but lines sum to {total}", event=ev.id)

    def effects(self, ev: Redeem, shop: str):
        return (
            [Posting(ev.id, resident_account(ev.resident), -ev.total), Posting(ev.id, shop_account(shop), ev.total)],
            [StockMove(ev.id, shop, i.sku, -i.qty) for i in ev.items],
        )

    def screen(self, ev: Redeem, step: Step) -> None:
        screen_resident(ev, step)
        screen_goods(ev, [i.sku for i in ev.items], step, ev.resident)
        goods = step.view.goods
        for i in ev.items:
            if i.price != goods[i.sku].price:
                step.review("price_mismatch", ev.id, ev.resident, {"sku": i.sku, "recorded": i.price, "current": goods[i.sku].price})

    def after(self, ev: Redeem, step: Step, moves: list[StockMove]) -> None:
        after = step.view.balances[resident_account(ev.resident)]
        if after < 0:
            step.review("overdraft", ev.id, ev.resident, {"balance_after": after, "total": ev.total, "shop": step.shop})
        for m in moves:
            qty = step.view.stock[(m.shop, m.sku)]
            if qty < 0:
                step.review("stock_negative", ev.id, ev.resident, {"shop": m.shop, "sku": m.sku, "qty_after": qty})

    def columns(self, ev: Redeem) -> Columns:
        return Columns(operator=ev.operator, resident=ev.resident)

    def receipt(self, ev: Redeem) -> ReceiptPart:
        return ReceiptPart(lines=[ReceiptLine(("good", i.sku), i.qty, -i.qty * i.price) for i in ev.items])

    def shift(self, ev: Redeem) -> list[ShiftLine]:
        return [ShiftLine("operator", "redeemed", 0, ev.total),
                *(ShiftLine("good", i.sku, i.qty, i.qty * i.price) for i in ev.items)]

    def issued_flow(self, rule_kind: str | None) -> tuple[str, bool]:
        return "spent", False


KIND = RedeemKind()
