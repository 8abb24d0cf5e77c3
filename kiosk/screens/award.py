"""Award or deduct points: the active rules grouped by kind (basic, encouraged,
prohibited) with their points and caps, filtered as the operator types, an optional note,
and a confirm step. Enter on a rule asks to confirm; only a confirmed answer records.

The rules are read once when the screen opens (dozens of rows) and filtered in memory.
"""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input

from kiosk.screens.base import KioskScreen, cell, refill
from kiosk.screens.confirm import ConfirmScreen
from sync import codes

KIND_ORDER = {"basic": 0, "encouraged": 1, "prohibited": 2}


class AwardScreen(KioskScreen):
    TYPE_INTO = "#q"
    BINDINGS = [
        Binding("f10", "confirm", "key_confirm"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self, card: str, name: str) -> None:
        super().__init__()
        self.card, self.resident_name = card, name
        self.rules: list[dict] = []
        self.done = False

    def title_text(self) -> str:
        return self.tr("award_title", name=self.resident_name, card=self.card)

    def body(self) -> ComposeResult:
        yield Input(placeholder=self.tr("award_search"), id="q", max_length=40)
        table = DataTable(id="rules", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_kind", "col_code", "col_rule", "col_points", "col_cap_day", "col_cap_month")))
        yield table
        yield Input(placeholder=self.tr("award_note"), id="note", max_length=200)

    def on_mount(self) -> None:
        self.rules = sorted((r for r in self.app.service.rules() if r["status"] == "active"),
                            key=lambda r: (KIND_ORDER.get(r["kind"], 9), r["code"]))
        self.fill()
        self.say("award_pick")
        self.query_one("#q", Input).focus()

    def fill(self) -> None:
        text = codes.clean(self.query_one("#q", Input).value).lower()
        refill(self.query_one("#rules", DataTable), (
            (r["code"], (cell(self.tr("rule_kind_" + r["kind"])), cell(r["code"]), cell(r["name"]),
                         cell(f"{r['points']:+d}", right=True), cell(r["cap_day"], right=True),
                         cell(r["cap_month"], right=True)))
            for r in self.rules if not text or text in r["code"].lower() or text in r["name"].lower()))

    @on(Input.Changed, "#q")
    def _filter(self) -> None:
        self.fill()

    @on(Input.Submitted, "#q")
    def _to_table(self) -> None:
        table = self.query_one("#rules", DataTable)
        code = codes.normalise_or_none("rule", self.query_one("#q", Input).value)
        keys = [row.value for row in table.rows]
        if code in keys:  # a scanned or typed rule code: that rule, even if others contain it
            table.move_cursor(row=keys.index(code))
            self.action_confirm()
        elif table.row_count == 1:
            self.action_confirm()
        else:
            table.focus()

    @on(Input.Submitted, "#note")
    @on(DataTable.RowSelected, "#rules")
    def _selected(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        table = self.query_one("#rules", DataTable)
        if self.done or not table.row_count:
            return
        code = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        rule = next(r for r in self.rules if r["code"] == code)
        note = self.query_one("#note", Input).value.strip()
        # a deduction reads "扣 5 分", as an operator says it, never "记 -5 分"
        question = self.tr("confirm_deduct" if rule["points"] < 0 else "confirm_award", name=self.resident_name,
                           card=self.card, points=abs(rule["points"]) if rule["points"] < 0 else rule["points"],
                           rule=f"{rule['code']} {rule['name']}")
        self.app.push_screen(ConfirmScreen(question, note), lambda yes: self._record(yes, code, note))

    def _record(self, yes: bool | None, code: str, note: str) -> None:
        if not yes or self.done:
            return
        svc = self.app.service
        if self.app.record(lambda op: svc.award(self.card, code, op, note, receipt=True)):
            self.done = True
