"""Redeem goods: this shop's goods with price and stock, a basket with quantities, the
running total against what the resident may spend, the offline floor limit in words when
it applies, and a confirm step.

The input keeps focus for the scanner: a scanned SKU and Enter adds one; ``SKU*3`` (or
``SKU×3``, ``SKU:3``) adds three; a number alone sets the quantity of the basket's current
line (the one last added); a name fragment filters the goods table (Enter on a row adds
one). In the basket, + / - change the quantity and Delete removes the line; a line under
the basket says so. More than the stock is refused as it is asked for, and F10 says what
is over (points, stock, the offline limit) instead of asking to confirm. Esc with goods in
the basket asks first. The service re-checks everything (balance, stock, lease, offline
cap) inside the recording transaction; the screen's figures are a guide for the operator,
not the decision.
"""

import re


from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from kiosk.screens.base import KioskScreen, cell, refill
from kiosk.screens.confirm import ConfirmScreen
from sync import codes

MAX_QTY = 10_000
#: a code with a quantity typed after it: ``OIL*3``, ``OIL×3``, ``OIL:3``
WITH_QTY = re.compile(r"^(?P<code>.+?)\s*[*×:]\s*(?P<qty>\d{1,5})$")


class RedeemScreen(KioskScreen):
    TYPE_INTO = "#q"
    DEFAULT_CSS = """
    RedeemScreen #tables { height: 1fr; }
    RedeemScreen #goods { width: 3fr; }
    RedeemScreen #basket { width: 2fr; }
    RedeemScreen #total { padding: 0 1; text-style: bold; }
    RedeemScreen #total.over { color: $error; }
    RedeemScreen #offline { padding: 0 1; color: $warning; height: auto; }
    RedeemScreen #basket-keys { height: auto; }
    """
    BINDINGS = [
        Binding("f10", "confirm", "key_confirm"),
        Binding("plus", "more", "key_more", show=False),
        Binding("minus", "less", "key_less", show=False),
        Binding("delete", "remove", "key_remove"),
        Binding("escape", "leave", "key_back"),
    ]

    def __init__(self, card: str, name: str) -> None:
        super().__init__()
        self.card, self.resident_name = card, name
        self.goods: dict[str, dict] = {}
        self.basket: dict[str, int] = {}  # sku -> qty, in the order added
        self.done = False

    def title_text(self) -> str:
        return self.tr("redeem_title", name=self.resident_name, card=self.card)

    def body(self) -> ComposeResult:
        yield Input(placeholder=self.tr("redeem_search"), id="q", max_length=40)
        with Horizontal(id="tables"):
            goods = DataTable(id="goods", cursor_type="row", zebra_stripes=True)
            # the name last: a long one (20 characters) is cut at the edge, never pushes
            # the price and the stock off the screen
            goods.add_columns(*(self.tr(k) for k in ("col_code", "col_price", "col_stock", "col_good")))
            yield goods
            basket = DataTable(id="basket", cursor_type="row")
            basket.add_columns(*(self.tr(k) for k in ("col_qty", "col_subtotal", "col_good")))
            yield basket
        yield Static(self.tr("basket_keys"), id="basket-keys", classes="hint", markup=False)
        yield Static("", id="total", markup=False)
        yield Static("", id="offline", markup=False)

    def on_mount(self) -> None:
        self.goods = {g["sku"]: g for g in self.app.service.goods() if g["status"] == "active"}
        self.fill()
        self.query_one("#q", Input).focus()

    # ------------------------------------------------------------ showing

    def fill(self) -> None:
        self._fill_goods()
        self._fill_basket()

    def _fill_goods(self) -> None:
        text = codes.clean(self.query_one("#q", Input).value).lower()
        refill(self.query_one("#goods", DataTable), (
            (g["sku"], (cell(g["sku"]), cell(g["price"], right=True), cell(g["stock"], right=True),
                        cell(f"{g['name']}/{g['unit']}")))
            for g in self.goods.values() if not text or text in g["sku"].lower() or text in g["name"].lower()))

    def _fill_basket(self) -> None:
        refill(self.query_one("#basket", DataTable), (
            (sku, (cell(qty, right=True), cell(qty * self.goods[sku]["price"], right=True), cell(self.goods[sku]["name"])))
            for sku, qty in self.basket.items()))
        svc = self.app.service
        available = svc.balance(self.card).available
        total = self.total()
        line = self.query_one("#total", Static)
        over = total - available
        text = self.tr("basket_total", total=total, available=available)
        line.update(text + ("  " + self.tr("basket_over", over=over) if over > 0 else ""))
        line.set_class(over > 0, "over")
        left = svc.offline_allowance(self.card)
        cap = svc.policy().offline_daily_cap
        self.query_one("#offline", Static).update("" if left is None else self.tr("offline_rule", cap=cap, left=left))

    def synced(self) -> None:
        # the balance and the stock may have moved; the cursors stay put
        self.goods = {g["sku"]: g for g in self.app.service.goods() if g["status"] == "active"}
        self.basket = {sku: qty for sku, qty in self.basket.items() if sku in self.goods}
        self.fill()

    def total(self) -> int:
        return sum(qty * self.goods[sku]["price"] for sku, qty in self.basket.items())

    # ------------------------------------------------------------ changing the basket

    def add(self, sku: str, qty: int = 1) -> None:
        self.set_qty(sku, self.basket.get(sku, 0) + qty)

    def set_qty(self, sku: str, qty: int) -> None:
        """Put ``qty`` of ``sku`` in the basket (0 removes the line); more than the stock
        is refused with the figures, and the basket stays as it was."""
        good = self.goods[sku]
        if qty > good["stock"]:
            self.say("insufficient_stock", error=True, sku=good["name"], available=good["stock"], wanted=qty)
            return
        if qty <= 0:
            self.basket.pop(sku, None)
        else:
            self.basket[sku] = min(qty, MAX_QTY)
        self.say(None)
        self._fill_basket()
        if sku in self.basket:  # the current line: a number typed next sets its quantity
            self.query_one("#basket", DataTable).move_cursor(row=list(self.basket).index(sku))

    @on(Input.Changed, "#q")
    def _filter(self) -> None:
        self._fill_goods()

    @on(Input.Submitted, "#q")
    def _scanned(self, event: Input.Submitted) -> None:
        text = codes.clean(event.value)
        sku = codes.normalise_or_none("sku", text)
        match = sku if sku in self.goods else None
        typed = WITH_QTY.match(text)
        with_qty = codes.normalise_or_none("sku", typed["code"]) if typed and not match else None
        if match:
            event.input.value = ""
            self.add(match)
        elif with_qty in self.goods:
            event.input.value = ""
            self.add(with_qty, int(typed["qty"]))
        elif text.isdigit() and self._basket_line() is not None:  # a quantity for the current line
            event.input.value = ""
            self.set_qty(self._basket_line(), int(text))
        elif self.query_one("#goods", DataTable).row_count:
            self.query_one("#goods", DataTable).focus()
        elif text:
            event.input.value = ""
            self.say("no_goods", error=True, text=text[:40])

    @on(DataTable.RowSelected, "#goods")
    def _picked(self, event: DataTable.RowSelected) -> None:
        self.add(event.row_key.value)

    def _basket_line(self) -> str | None:
        table = self.query_one("#basket", DataTable)
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None

    def _basket_sku(self) -> str | None:
        table = self.query_one("#basket", DataTable)
        if not table.row_count:
            return None
        if self.focused is self.query_one("#goods", DataTable):
            goods = self.query_one("#goods", DataTable)
            return goods.coordinate_to_cell_key(goods.cursor_coordinate).row_key.value if goods.row_count else None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_more(self) -> None:
        sku = self._basket_sku()
        if sku:
            self.add(sku, 1)

    def action_less(self) -> None:
        sku = self._basket_sku()
        if sku:
            self.add(sku, -1)

    def action_remove(self) -> None:
        sku = self._basket_sku()
        if sku in self.basket:
            self.add(sku, -self.basket[sku])

    # ------------------------------------------------------------ recording

    def action_leave(self) -> None:
        """Esc: back to the resident, asking first if goods are in the basket."""
        if not self.basket or self.done:
            self.action_back()
            return
        question = self.tr("confirm_drop_basket", count=sum(self.basket.values()))
        self.app.push_screen(ConfirmScreen(question), lambda yes: self.action_back() if yes else None)

    def _over(self) -> tuple[str, dict] | None:
        """What the basket asks for beyond the figures on screen: stock, points or the
        offline limit, as the service would refuse it."""
        for sku, qty in self.basket.items():
            if qty > self.goods[sku]["stock"]:
                return "insufficient_stock", {"sku": self.goods[sku]["name"], "available": self.goods[sku]["stock"],
                                              "wanted": qty}
        svc, total = self.app.service, self.total()
        available = svc.balance(self.card).available
        if total > available:
            return "insufficient_balance", {"available": available, "total": total}
        left = svc.offline_allowance(self.card)
        if left is not None and total > left:
            cap = svc.policy().offline_daily_cap
            return "offline_cap", {"cap": cap, "used": cap - left, "total": total}
        return None

    def action_confirm(self) -> None:
        if self.done:
            return
        if not self.basket:
            self.say("basket_empty", error=True)
            return
        over = self._over()
        if over is not None:
            self.say(over[0], error=True, **over[1])
            return
        items = list(self.basket.items())
        detail = "\n".join(f"{self.goods[s]['name']} ×{q} = {q * self.goods[s]['price']}" for s, q in items)
        question = self.tr("confirm_redeem", name=self.resident_name, card=self.card,
                           count=sum(q for _, q in items), total=self.total())
        self.app.push_screen(ConfirmScreen(question, detail), lambda yes: self._record(yes, items))

    def _record(self, yes: bool | None, items: list[tuple[str, int]]) -> None:
        if not yes or self.done:
            return
        svc = self.app.service
        if self.app.record(lambda op: svc.redeem(self.card, items, op, receipt=True)):
            self.done = True
