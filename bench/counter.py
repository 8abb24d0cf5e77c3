"""The counter's response to a confirmed action, through the real Textual app: from the
operator's confirming key until the receipt screen is the active screen, with the
kiosk's full database (residents and history) behind it. Headless (``App.run_test``); it
includes Textual's key delivery, the durable commit, the receipt file and the screen
switch, but not the terminal's own painting."""

import asyncio
import time

from bench.harness import Figure, Spread
from kiosk.app import KioskApp
from kiosk.screens.receipt import ReceiptScreen

SIZE = (100, 32)


async def _confirmed_actions(svc, cards: list[str], rule: str, samples: int, operator: str,
                             pin: str) -> tuple[list[float], list[float]]:
    app = KioskApp(svc, auto_sync=False)
    took: list[float] = []
    inner: list[float] = []
    record = app.record

    def timed_record(*a, **kw):
        t0 = time.perf_counter()
        try:
            return record(*a, **kw)
        finally:
            inner.append((time.perf_counter() - t0) * 1000)

    app.record = timed_record
    shown: list[float] = []

    def hook(message) -> None:
        # the receipt screen becoming the active screen: what the operator sees next
        if type(message).__name__ == "ScreenResume" and isinstance(app.screen, ReceiptScreen):
            shown.append(time.perf_counter())

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await pilot.press(*operator, "enter", *pin, "enter")
        await pilot.pause()
        for card in cards[:samples]:
            await pilot.press(*card, "enter")  # a scanned card
            await pilot.pause()
            await pilot.press("f2", *rule, "enter")  # award screen, the rule, the confirm dialog
            await pilot.pause()
            shown.clear()
            t = time.perf_counter()
            await pilot.press("enter")  # the operator confirms
            while not shown:
                await pilot.pause()
            took.append((shown[0] - t) * 1000)
            await pilot.press("escape", "escape")  # receipt done, back to finding residents
            await pilot.pause()
    return took, inner


def counter_figure(svc, cards: list[str], samples: int, residents: int, events: int,
                   rule: str = "ZYFW", operator: str = "op1", pin: str = "1234") -> Figure:
    took, inner = asyncio.run(_confirmed_actions(svc, cards, rule, samples, operator, pin))
    value = Spread.of(took)
    return Figure(
        name="counter_response",
        title=f"kiosk app: confirmed award → receipt on screen, {residents:,} residents, {events:,} events stored",
        unit="ms", value=value, target="p99 ≤ 20 ms", met=(value.p99 or value.max) <= 20,
        extra={"record_path_ms": Spread.of(inner).__dict__},
        notes="from the confirming key to the receipt screen becoming the active screen (ScreenResume); "
              "record_path_ms is the app's one record path alone (durable commit, balances, receipt file, status)",
    )
