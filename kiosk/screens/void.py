"""Void a recent transaction of this kiosk: pick it, give a reason, a supervisor approves
with their PIN, and a reversing event is recorded (the original stays as it was)."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input

from kiosk.counter import Operator
from kiosk.screens.base import KioskScreen, cell, refill
from kiosk.screens.supervisor import SupervisorScreen
from sync.calendar import local_dt

RECENT = 30


class VoidScreen(KioskScreen):
    TYPE_INTO = "#reason"
    BINDINGS = [
        Binding("f10", "void", "key_void"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict] = {}
        self.done = False

    def title_text(self) -> str:
        return self.tr("void_title")

    def body(self) -> ComposeResult:
        table = DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_time", "col_event", "col_kind", "col_resident", "col_operator", "col_status")))
        yield table
        yield Input(placeholder=self.tr("void_reason"), id="reason", max_length=200)

    def on_mount(self) -> None:
        self.fill()
        self.say("void_pick")
        self.query_one("#recent", DataTable).focus()

    def fill(self) -> None:
        self.rows = {r["id"]: r for r in self.app.service.store.recent_events(RECENT)}
        refill(self.query_one("#recent", DataTable), (
            (r["id"], (cell(local_dt(r["at"]).strftime("%m-%d %H:%M")), cell(r["id"]), cell(self.tr("kind_" + r["kind"])),
                       cell(r["resident"] or ""), cell(r["operator"]), cell(self.tr("voided_mark") if r["voided_by"] else "")))
            for r in self.rows.values()))

    @on(DataTable.RowSelected, "#recent")
    def _picked(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def _reason_given(self) -> None:
        self.action_void()

    def action_void(self) -> None:
        table = self.query_one("#recent", DataTable)
        if self.done or not table.row_count:
            return
        event_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row = self.rows[event_id]
        if row["voided_by"] or row["kind"] == "void":
            self.say("void_already" if row["voided_by"] else "void_of_void", error=True, event=event_id)
            return
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.say("reason_needed", error=True)
            self.query_one("#reason", Input).focus()
            return
        self.app.push_screen(SupervisorScreen(event_id), lambda sup: self._record(sup, event_id, reason))

    def _record(self, sup: Operator | None, event_id: str, reason: str) -> None:
        if sup is None or self.done:
            return
        svc = self.app.service
        card = self.rows[event_id]["resident"]
        # the event carries the signed-in operator; the approving supervisor goes in the reason
        text = f"{reason} [supervisor {sup.id}]"
        if self.app.record(lambda op: svc.void(event_id, text, op), card=card):
            self.done = True
