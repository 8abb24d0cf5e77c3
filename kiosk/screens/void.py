"""Void a recent transaction of this kiosk: pick it from the list (who, how many points,
what kind), then give the reason, then a supervisor approves with their PIN, and a
reversing event is recorded (the original stays as it was).

The reason is asked only after a transaction is chosen, and the question names it, so the
operator never types a reason for the row that happened to be highlighted."""

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
    DEFAULT_CSS = """
    VoidScreen #reason { display: none; }
    VoidScreen #reason.asked { display: block; }
    """
    BINDINGS = [
        Binding("f10", "void", "key_void"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict] = {}
        self.chosen: str | None = None  # the event whose reason is being asked
        self.done = False

    def title_text(self) -> str:
        return self.tr("void_title")

    def body(self) -> ComposeResult:
        table = DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_time", "col_name", "col_points", "col_kind", "col_event",
                                                 "col_status")))
        yield table
        yield Input(placeholder=self.tr("void_reason"), id="reason", max_length=200,
                    classes="asked" if self.chosen else "")

    def on_mount(self) -> None:
        self.fill()
        if self.chosen is None:
            self.say("void_pick")
            self.query_one("#recent", DataTable).focus()

    def fill(self) -> None:
        self.rows = {r["id"]: r for r in self.app.service.voidable(RECENT)}
        refill(self.query_one("#recent", DataTable), (
            (r["id"], (cell(local_dt(r["at"]).strftime("%m-%d %H:%M")), cell(r["name"] or r["resident"] or ""),
                       cell(None if r["points"] is None else f"{r['points']:+d}", right=True),
                       cell(self.tr("kind_" + r["kind"])), cell(r["id"]),
                       cell(self.tr("voided_mark") if r["voided_by"] else "")))
            for r in self.rows.values()))
        if self.chosen is not None:
            self._ask()  # after a language switch: the question in the new language

    @on(DataTable.RowSelected, "#recent")
    def _picked(self) -> None:
        self.action_choose()

    def action_void(self) -> None:
        """F10: choose the highlighted transaction, or, once chosen, go on with the reason."""
        if self.chosen is None:
            self.action_choose()
        else:
            self._reason_given()

    def action_choose(self) -> None:
        """The highlighted transaction is the one: check it can be voided, then ask why."""
        table = self.query_one("#recent", DataTable)
        if self.done or not table.row_count:
            return
        event_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row = self.rows[event_id]
        if row["voided_by"] or row["kind"] == "void":
            self.say("void_already" if row["voided_by"] else "void_of_void", error=True, event=event_id)
            return
        self.chosen = event_id
        reason = self.query_one("#reason", Input)
        reason.value = ""
        reason.add_class("asked")
        reason.focus()
        self._ask()

    def _ask(self) -> None:
        row = self.rows.get(self.chosen or "")
        if row is None:
            return
        points = "" if row["points"] is None else f"{row['points']:+d}"
        self.say("void_ask_reason", event=row["id"], kind=self.tr("kind_" + row["kind"]),
                 who=row["name"] or row["resident"] or "", points=points)

    @on(Input.Submitted, "#reason")
    def _reason_given(self) -> None:
        event_id = self.chosen
        if self.done or event_id is None:
            return
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.say("reason_needed", error=True)
            return
        self.app.push_screen(SupervisorScreen(event_id), lambda sup: self._record(sup, event_id, reason))

    def action_back(self) -> None:
        """Esc while the reason is asked: back to the list; else back to the home screen."""
        if self.chosen is not None:
            self.chosen = None
            self.query_one("#reason", Input).remove_class("asked")
            self.query_one("#recent", DataTable).focus()
            self.say("void_pick")
            return
        super().action_back()

    def _record(self, sup: Operator | None, event_id: str, reason: str) -> None:
        if sup is None or self.done:
            return
        svc = self.app.service
        # the event carries the approving supervisor (the server reviews a void by anyone
        # else); the reason names them too, in the operator's words (printed on the receipt)
        text = self.tr("void_by", reason=reason, supervisor=sup.id)
        if self.app.record(lambda op: svc.void(event_id, text, sup.id, receipt=True)):
            self.done = True
