"""Resident view: confirmed, pending and available points, this month's rank in the
community (shown as "—" until the server publishes boards), and this kiosk's recent
history with the resident. F2 awards or deducts, F3 redeems."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from kiosk.i18n import month_text
from kiosk.screens.base import KioskScreen, cell
from sync.calendar import local_dt


class ResidentScreen(KioskScreen):
    BINDINGS = [
        Binding("f2", "award", "key_award"),
        Binding("f3", "redeem", "key_redeem"),
        Binding("escape", "back", "key_back"),
    ]

    def __init__(self, card: str) -> None:
        super().__init__()
        self.card = card
        self.row = {}

    def title_text(self) -> str:
        self.row = self.app.service.resident(self.card) or {"name": "?", "community": "?", "status": "?"}
        return f"{self.row['name']}  {self.card}  ·  {self.app.service.community_name(self.row['community'])}"

    def body(self) -> ComposeResult:
        yield Static("", id="balance", markup=False)
        yield Static("", id="rank", markup=False)
        yield Static(self.tr("res_history"), classes="hint", markup=False)
        table = DataTable(id="history", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(self.tr(k) for k in ("col_time", "col_event", "col_kind", "col_points", "col_where", "col_status")))
        yield table

    def fill(self) -> None:
        svc = self.app.service
        bal = svc.balance(self.card)
        self.query_one("#balance", Static).update(
            self.tr("res_balance", confirmed=bal.confirmed, pending=bal.pending, available=bal.available))
        # the newest public board pulled from the server; "—" until one is published
        rank = svc.rank(self.card)
        shown = self.tr("res_rank_of", **{**rank, "month": month_text(rank["month"], self.lang)}) if rank else "—"
        self.query_one("#rank", Static).update(self.tr("res_rank", rank=shown))
        if self.row.get("status") == "retired":
            self.say("resident_retired", error=True, card=self.card)
        table = self.query_one("#history", DataTable)
        table.clear()
        where = f"{svc.shop_name} {svc.kiosk_id or ''}".strip()
        for h in svc.history(self.card, 30):
            state = self.tr("voided_mark") if h["voided_by"] else "" if h["synced"] else self.tr("pending_mark")
            table.add_row(cell(local_dt(h["at"]).strftime("%m-%d %H:%M")), cell(h["id"]),
                          cell(self.tr("kind_" + h["kind"])), cell(f"{h['points']:+d}", right=True),
                          cell(where), cell(state), key=h["id"])

    def synced(self) -> None:
        self.fill()

    def action_award(self) -> None:
        from kiosk.screens.award import AwardScreen

        self.app.push_screen(AwardScreen(self.card, self.row.get("name", "")))

    def action_redeem(self) -> None:
        from kiosk.screens.redeem import RedeemScreen

        self.app.push_screen(RedeemScreen(self.card, self.row.get("name", "")))
