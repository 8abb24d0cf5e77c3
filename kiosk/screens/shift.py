"""Shift close: the shift's totals per operator and per rule/goods (by name), and the stock
the operator counts against what the kiosk expects. The count field has the focus and names
the highlighted goods; a number and Enter counts it and moves down the shelf, ↑↓ pick other
goods. F10 saves the report (screen and file), opens a new shift and shows it, empty."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from kiosk import shift
from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen, cell
from kiosk.screens.confirm import ConfirmScreen


class ShiftScreen(KioskScreen):
    TYPE_INTO = "#count"
    DEFAULT_CSS = """
    ShiftScreen #report-box { height: 1fr; }
    ShiftScreen #stock { height: 8; }
    """
    BINDINGS = [
        Binding("f10", "close_shift", "key_shift"),
        Binding("escape", "back", "key_back"),
        Binding("up", "row(-1)", show=False),
        Binding("down", "row(1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.counted: dict[str, int] = {}
        self.expected: dict[str, int] = {}
        self.names: dict[str, str] = {}

    def title_text(self) -> str:
        return self.tr("shift_title")

    def body(self) -> ComposeResult:
        with VerticalScroll(id="report-box"):
            yield Static("", id="report", markup=False)
        table = DataTable(id="stock", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_good", "col_expected", "col_counted", "col_diff")))
        yield table
        yield Input(placeholder=self.tr("shift_count_prompt"), id="count", max_length=6)

    def on_mount(self) -> None:
        self.fill()
        self.query_one("#count", Input).focus()

    def report(self) -> shift.ShiftReport:
        return shift.report(self.app.service, self.counted, self.app.service.clock())

    def fill(self) -> None:
        rep = self.report()
        self.query_one("#report", Static).update("\n".join(shift.render(rep, self.lang)[1:-len(rep.stock) - 2]))
        table = self.query_one("#stock", DataTable)
        keep = table.cursor_row
        table.clear()
        self.expected = {sku: expected for sku, expected, _ in rep.stock}
        self.names = {sku: rep.name("good", sku) for sku, _, _ in rep.stock}
        for sku, expected, counted in rep.stock:
            diff = None if counted is None else f"{counted - expected:+d}"
            table.add_row(cell(self.names[sku]), cell(expected, right=True), cell(counted, right=True),
                          cell(diff, right=True), key=sku)
        if rep.stock:
            table.move_cursor(row=min(keep, len(rep.stock) - 1))
        self.prompt()

    def highlighted(self) -> str | None:
        table = self.query_one("#stock", DataTable)
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None

    def prompt(self) -> None:
        """The count field says which goods the number typed is for."""
        sku = self.highlighted()
        self.query_one("#count", Input).placeholder = (
            self.tr("shift_count_for", name=self.names[sku], expected=self.expected[sku]) if sku else self.tr("shift_count_prompt"))

    def action_row(self, step: int) -> None:
        table = self.query_one("#stock", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    @on(DataTable.RowHighlighted, "#stock")
    def _highlighted(self) -> None:
        self.prompt()

    @on(DataTable.RowSelected, "#stock")
    def _picked(self) -> None:
        self.query_one("#count", Input).focus()

    @on(Input.Submitted, "#count")
    def _counted(self, event: Input.Submitted) -> None:
        table = self.query_one("#stock", DataTable)
        raw = event.value.strip()
        if not table.row_count:
            return
        if not raw.isdigit() or int(raw) > 1_000_000:
            self.say("bad_qty", error=True, value=raw[:12])
            return
        self.counted[self.highlighted()] = int(raw)
        event.input.value = ""
        self.say(None)
        self.fill()
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)  # next goods, as one counts down the shelf
        self.prompt()

    def action_close_shift(self) -> None:
        self.app.push_screen(ConfirmScreen(self.tr("confirm_shift")), self._close)

    def _close(self, yes: bool | None) -> None:
        if not yes:
            return
        rep = self.report()
        path = shift.save(rep, self.lang, self.app.service.settings.data_dir)
        try:  # sent with the next sync, so central staff see the stock differences
            if self.app.operator is not None:
                self.app.service.shift_close(rep, self.app.operator.id)
        except KioskError as exc:
            self.say_error(exc)  # saved here all the same; the report is not lost
        self.app.counter.open_shift()
        # the screen starts over on the new shift: no counts carried over, totals at zero
        self.counted = {}
        self.query_one("#stock", DataTable).move_cursor(row=0)
        self.fill()
        self.query_one("#count", Input).focus()
        self.say("shift_saved", path=path.name)
