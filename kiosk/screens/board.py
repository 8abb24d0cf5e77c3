"""The public board (张榜公示) at the counter: the newest board pulled from the server of
a community this shop serves, residents named as on every board (张*明（…1234）, from
``KioskService.boards``), F4 the next community. What residents ask at the counter is
"where do I stand": the board answers it without showing anyone's whole name or card."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from kiosk.i18n import month_text
from kiosk.screens.base import KioskScreen, cell, refill
from sync.humantime import written


class BoardScreen(KioskScreen):
    BINDINGS = [
        Binding("f4", "next_board", "key_next_board"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown = 0  # which of the service's boards

    def title_text(self) -> str:
        return self.tr("board_title")

    def body(self) -> ComposeResult:
        yield Static("", id="board-head", markup=False)
        table = DataTable(id="board", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_rank", "col_board_name", "col_points")))
        yield table

    def fill(self) -> None:
        boards = self.app.service.boards()
        table = self.query_one("#board", DataTable)
        head = self.query_one("#board-head", Static)
        if not boards:
            table.clear()
            head.update("")
            self.say("board_none")
            return
        board = boards[self.shown % len(boards)]
        head.update(self.tr("board_head", community=board["community_name"], month=month_text(board["month"], self.lang),
                            ranked=board["ranked"], shown=len(board["lines"]), published=written(board["published"], self.lang),
                            n=self.shown % len(boards) + 1, of=len(boards)))
        refill(table, ((str(i), (cell(ln["rank"], right=True), cell(ln["name"]), cell(ln["points"], right=True)))
                       for i, ln in enumerate(board["lines"])))
        if not board["lines"]:
            self.say("board_empty")

    def synced(self) -> None:
        self.fill()

    def action_next_board(self) -> None:
        self.shown += 1
        self.query_one("#board", DataTable).clear()
        self.fill()
