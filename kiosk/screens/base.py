"""What every kiosk screen shares: the status bar, a title, one message line, the key bar,
and switching language without losing what the operator typed.

A screen's words all come from ``kiosk.i18n``; on a language switch the screen is
recomposed and ``fill()`` puts its data back, and Input values are carried across.
Errors from the service are shown with ``say_error`` as a sentence, never a traceback.
"""

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from kiosk.errors import KioskError
from kiosk.i18n import t
from kiosk.widgets.keybar import KeyBar
from kiosk.widgets.status import StatusBar

#: actions that record an event; disabled once central staff revoke the kiosk
RECORDING = {"award", "redeem", "void", "stock", "confirm", "write"}


def cell(value: object, right: bool = False) -> Text:
    """A table cell shown literally: a name or pasted text with brackets is not markup."""
    return Text("—" if value is None else str(value), justify="right" if right else "left")


def refill(table: DataTable, rows) -> None:
    """Replace a table's rows (``(key, cells)`` pairs) keeping the cursor on the same key,
    so a sync or a closed dialog never moves the operator's selection to another row."""
    keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    keys = [k.value for k in table.rows]
    if keep in keys:
        table.move_cursor(row=keys.index(keep))


class KioskScreen(Screen):
    BINDINGS = [Binding("escape", "back", "key_back")]
    #: the field that characters typed on a list go to, as a new entry (a scan while the
    #: list has focus must reach the code field, never turn its Enter into "open the
    #: highlighted row")
    TYPE_INTO: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self._lang = ""
        self._message: tuple[str, dict, bool] | None = None

    @property
    def lang(self) -> str:
        return self.app.lang

    def tr(self, key: str, **fields) -> str:
        return t(key, self.app.lang, **fields)

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        self._lang = self.app.lang
        yield StatusBar()
        yield Static(self.title_text(), id="title", markup=False)
        yield from self.body()
        yield Static(self._message_text(), id="message", markup=False)
        yield KeyBar()

    def title_text(self) -> str:
        return ""

    def body(self) -> ComposeResult:
        yield from ()

    def fill(self) -> None:
        """Put data into tables and labels; called on mount, on resume and after a language switch."""

    def on_mount(self) -> None:
        self.fill()

    def synced(self) -> None:
        """A background sync finished while this screen is shown: refresh moving figures."""

    def on_screen_resume(self) -> None:
        if self._lang and self._lang != self.app.lang:
            self.run_worker(self.relang(), exclusive=True, group="relang")
        elif self.is_mounted:
            self.fill()

    async def relang(self) -> None:
        values = {i.id: (i.value, i.cursor_position) for i in self.query(Input) if i.id}
        focused = self.focused.id if self.focused is not None else None
        await self.recompose()
        for input_ in self.query(Input):
            if input_.id in values:
                input_.value, input_.cursor_position = values[input_.id]
        self.fill()
        if focused is not None:
            # the operator keeps typing where they were (selected, the next key would replace it)
            widget = self.query_one(f"#{focused}")
            if isinstance(widget, Input):
                widget.select_on_focus = False
            self.set_focus(widget)

    # ------------------------------------------------------------ messages

    def say(self, key: str | None, error: bool = False, **fields) -> None:
        self._message = (key, fields, error) if key else None
        line = self.query_one("#message", Static)
        line.update(self._message_text())
        line.set_class(error, "error")

    def say_error(self, exc: KioskError) -> None:
        self.say(exc.key, error=True, **exc.fields)

    def _message_text(self) -> str:
        if not self._message:
            return ""
        key, fields, _ = self._message
        return self.tr(key, **fields)

    # ------------------------------------------------------------ keys

    def on_key(self, event: events.Key) -> None:
        if self.TYPE_INTO is None or not event.is_printable or isinstance(self.focused, Input):
            return
        if event.key in self.active_bindings:
            return  # + and - on the basket are keys, not text
        field = self.query_one(self.TYPE_INTO, Input)
        event.stop()
        event.prevent_default()
        field.value = event.character or ""  # a new code: the text that led to the list is done with
        field.cursor_position = len(field.value)
        field.select_on_focus = False  # selected, the next key of the scan would replace this one
        field.focus()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in RECORDING and self.app.revoked:
            return None  # shown dimmed in the key bar, does nothing
        return True
