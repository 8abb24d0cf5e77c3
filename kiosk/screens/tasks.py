"""Volunteer service tasks at the station: the tasks of the resident's community (the
``task`` feed), a claim for the resident's card and its completion.

``TasksScreen`` lists the tasks, open first, with their points, places taken and where the
resident stands (claimed, done; this kiosk's unsent events included). F2 claims the
highlighted task for the resident, F3 records the resident's claimed task done — each after
a confirm step; the points come from the task, never typed. What this kiosk knows would not
count (closed, full, claimed already, no claim) is refused with its reason before anything
is recorded. Opened from the resident view (F6)."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from kiosk.screens.base import KioskScreen, cell, refill
from kiosk.screens.confirm import ConfirmScreen

COLUMNS = ("col_task", "col_task_title", "col_points", "col_task_taken", "col_task_mine")


class TasksScreen(KioskScreen):
    DEFAULT_CSS = """
    TasksScreen #tasks { height: 1fr; }
    """
    BINDINGS = [
        Binding("f2", "claim", "key_task_claim"),
        Binding("f3", "finish", "key_task_done"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self, card: str, name: str) -> None:
        super().__init__()
        self.card, self.resident_name = card, name
        self.rows: list[dict] = []

    def title_text(self) -> str:
        return self.tr("tasks_title", name=self.resident_name, card=self.card)

    def body(self) -> ComposeResult:
        table = DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in COLUMNS))
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#tasks", DataTable).focus()

    def fill(self) -> None:
        self.rows = self.app.service.tasks(self.card)
        refill(self.query_one("#tasks", DataTable), (
            (r["id"], (cell(r["id"]), cell(r["title"]), cell(r["points"], right=True), cell(f"{r['taken']}/{r['slots']}"),
                       cell(self.tr("task_mine_" + (r["mine"] or _state(r))))))
            for r in self.rows))
        self.say("tasks_hint" if self.rows else "tasks_none")

    def synced(self) -> None:
        self.fill()

    def selected(self) -> dict | None:
        table = self.query_one("#tasks", DataTable)
        if not table.row_count:
            return None
        task_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r["id"] == task_id), None)

    def action_claim(self) -> None:
        self._ask("claim", "confirm_task_claim")

    def action_finish(self) -> None:
        self._ask("done", "confirm_task_done")

    def _ask(self, what: str, question: str) -> None:
        task = self.selected()
        if task is None:
            return
        reason = self.app.service.task_refusal(self.card, task["id"], what)
        if reason is not None:
            self.say("task_" + reason, error=True, task=task["id"])
            return
        text = self.tr(question, name=self.resident_name, card=self.card, task=task["id"], title=task["title"],
                       points=task["points"])
        self.app.push_screen(ConfirmScreen(text), lambda yes: self._record(yes, what, task["id"]))

    def _record(self, yes: bool | None, what: str, task: str) -> None:
        if not yes:
            return
        svc = self.app.service
        record = svc.claim_task if what == "claim" else svc.finish_task
        self.app.record(lambda op: record(self.card, task, op, receipt=True))


def _state(row: dict) -> str:
    """What a task not claimed by this resident offers them: closed, full, or a place."""
    if not row["open"]:
        return "closed"
    return "full" if row["taken"] >= row["slots"] else "open"
