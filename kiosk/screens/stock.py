"""Goods received at the shop: scan or type a goods code, Enter, type the quantity, Enter;
repeat for each line; F10 records the whole delivery as one event after a confirm step.
Delete removes the highlighted line."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input

from kiosk.screens.base import KioskScreen, cell
from kiosk.screens.confirm import ConfirmScreen
from sync import codes

MAX_QTY = 10_000


class StockInScreen(KioskScreen):
    TYPE_INTO = "#sku"
    BINDINGS = [
        Binding("f10", "confirm", "key_confirm"),
        Binding("delete", "remove", "key_remove"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}
        self.done = False

    def title_text(self) -> str:
        return self.tr("stock_title")

    def body(self) -> ComposeResult:
        yield Input(placeholder=self.tr("stock_sku"), id="sku", max_length=40)
        yield Input(placeholder=self.tr("stock_qty"), id="qty", max_length=6)
        table = DataTable(id="lines", cursor_type="row")
        table.add_columns(*(self.tr(k) for k in ("col_code", "col_good", "col_qty")))
        yield table
        yield Input(placeholder=self.tr("stock_note"), id="note", max_length=200)

    def on_mount(self) -> None:
        self.fill()
        self.query_one("#sku", Input).focus()

    def fill(self) -> None:
        table = self.query_one("#lines", DataTable)
        table.clear()
        for sku, qty in self.lines.items():
            good = self.app.service.good(sku) or {"name": "?"}
            table.add_row(cell(sku), cell(good["name"]), cell(qty, right=True), key=sku)

    def _sku(self) -> str | None:
        text = self.query_one("#sku", Input).value.strip()
        sku = codes.normalise_or_none("sku", text)
        good = self.app.service.good(sku) if sku else None
        if good is None or good["status"] != "active":
            self.say("no_goods", error=True, text=text[:40])
            return None
        return good["sku"]

    @on(Input.Submitted, "#sku")
    def _scanned(self) -> None:
        if self._sku():
            self.say(None)
            self.query_one("#qty", Input).focus()

    @on(Input.Submitted, "#qty")
    def _quantity(self, event: Input.Submitted) -> None:
        sku = self._sku()
        if sku is None:
            self.query_one("#sku", Input).focus()
            return
        raw = codes.clean(event.value) or "1"
        if not raw.isdigit() or not 1 <= int(raw) + self.lines.get(sku, 0) <= MAX_QTY:
            self.say("bad_qty", error=True, value=raw[:12])
            return
        self.lines[sku] = self.lines.get(sku, 0) + int(raw)
        event.input.value = ""
        self.query_one("#sku", Input).value = ""
        self.say(None)
        self.fill()
        self.query_one("#sku", Input).focus()

    def action_remove(self) -> None:
        table = self.query_one("#lines", DataTable)
        if table.row_count:
            self.lines.pop(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value, None)
            self.fill()

    def action_confirm(self) -> None:
        if self.done:
            return
        if not self.lines:
            self.say("basket_empty", error=True)
            return
        items = list(self.lines.items())
        note = self.query_one("#note", Input).value.strip()
        detail = "\n".join(f"{sku} ×{qty}" for sku, qty in items)
        self.app.push_screen(ConfirmScreen(self.tr("confirm_stock", count=len(items)), detail),
                             lambda yes: self._record(yes, items, note))

    def _record(self, yes: bool | None, items: list[tuple[str, int]], note: str) -> None:
        if not yes or self.done:
            return
        svc = self.app.service
        if self.app.record(lambda op: svc.stock_in(items, op, note, receipt=True)):
            self.done = True
