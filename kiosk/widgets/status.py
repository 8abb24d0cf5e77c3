"""The always-visible status bar: shop and kiosk, online or offline, unsynced events,
time since the last good sync, and warnings in plain words.

It only renders ``app.status_lines()``; the app refreshes the figures (after each sync,
each recorded event and every few seconds) and this widget re-reads them once a second,
so "5 minutes ago" keeps moving without touching the database.
"""

from rich.text import Text
from textual.widget import Widget


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { dock: top; height: 2; background: $panel; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)

    def render(self) -> Text:
        line, warning = self.app.status_lines()
        text = Text(line, no_wrap=True, overflow="ellipsis")
        text.append("\n")
        text.append(warning, style="bold red")
        return text
