"""Home screen: find a resident. The input keeps focus for the scanner: a scanned card
and Enter opens the resident at once (one primary-key lookup); a name fragment, the pinyin
initials of a name (``zsm`` for 张三明) or the last phone digits list matches in a table,
at most ``SHOWN`` of them, and when more match the message says how many. Searching
happens on Enter only, never per keystroke, so 500,000 residents cost nothing while the
operator types. F4 shows the public board (``kiosk.screens.board``).
"""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input

from kiosk.screens.base import KioskScreen, cell
from sync import codes

#: rows listed for a search; when more match, the operator is told how many and asked to type more
SHOWN = 20
#: matches counted at most (each index read stops there); more reads "more than 1000"
COUNTED = 1000


class FindScreen(KioskScreen):
    TYPE_INTO = "#q"
    BINDINGS = [
        Binding("escape", "clear", "key_find", show=False),
        Binding("f4", "board", "key_board"),
        Binding("f6", "stock", "key_stock"),
        Binding("f7", "void", "key_void"),
        Binding("f8", "shift", "key_shift"),
        Binding("f9", "app.sign_out", "key_signout"),
    ]

    def title_text(self) -> str:
        op = self.app.operator
        who = self.tr("signed_in_as", name=op.name, id=op.id) if op else ""
        return f"{self.tr('find_title')}  ·  {who}"

    def body(self) -> ComposeResult:
        yield Input(placeholder=self.tr("find_prompt"), id="q", max_length=64)
        table = DataTable(id="results", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_card", "col_name", "col_phone", "col_community", "col_status")))
        yield table

    def on_mount(self) -> None:
        self.query_one("#q", Input).focus()
        if self.app.revoked:
            self.say("kiosk_revoked", error=True)

    def fill(self) -> None:
        pass  # results stay as found; a sync does not re-run the search

    @on(Input.Submitted, "#q")
    def _search(self, event: Input.Submitted) -> None:
        text = codes.clean(event.value)
        event.input.value = ""
        if not text:
            return
        svc = self.app.service
        card = codes.normalise_or_none("card", text)
        if card is not None and svc.resident(card) is not None:  # a scanned card: open it straight away
            self.open(card)
            return
        rows = svc.find_resident(text, SHOWN)
        table = self.query_one("#results", DataTable)
        table.clear()
        for r in rows:
            table.add_row(cell(r["card"]), cell(r["name"]), cell("*" + r["phone_tail"]), cell(r["community_name"]),
                          cell(self.tr("status_" + r["status"])), key=r["card"])
        if not rows:
            self.say("find_none", error=True, text=text[:40])
        elif len(rows) == 1:
            self.open(rows[0]["card"])
        else:
            found = svc.count_residents(text, COUNTED) if len(rows) == SHOWN else len(rows)
            if found > COUNTED:
                self.say("find_cut_many", n=COUNTED, shown=len(rows))
            elif found > len(rows):
                self.say("find_cut", n=found, shown=len(rows))
            else:
                self.say("find_many", n=len(rows))
            table.focus()

    @on(DataTable.RowSelected, "#results")
    def _picked(self, event: DataTable.RowSelected) -> None:
        self.open(event.row_key.value)

    def open(self, card: str) -> None:
        from kiosk.screens.resident import ResidentScreen

        self.say(None)
        self.query_one("#q", Input).focus()
        self.app.push_screen(ResidentScreen(card))

    def action_clear(self) -> None:
        self.query_one("#results", DataTable).clear()
        self.say(None)
        self.query_one("#q", Input).focus()

    def action_board(self) -> None:
        from kiosk.screens.board import BoardScreen

        self.app.push_screen(BoardScreen())

    def action_stock(self) -> None:
        from kiosk.screens.stock import StockInScreen

        self.app.push_screen(StockInScreen())

    def action_void(self) -> None:
        from kiosk.screens.void import VoidScreen

        self.app.push_screen(VoidScreen())

    def action_shift(self) -> None:
        from kiosk.screens.shift import ShiftScreen

        self.app.push_screen(ShiftScreen())
