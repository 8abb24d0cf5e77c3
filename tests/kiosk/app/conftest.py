"""Fixtures for the Textual app: an enrolled kiosk (fake server, fixed clock) whose shop
has operator op1 (PIN 1234) and supervisor sup1 (PIN 9999), and a helper to drive it."""

import pytest
from textual import events

from kiosk.app import KioskApp, Recorded
from schema.wire import OperatorRec
from sync.passwords import hash_pin
from tests.kiosk.fakeserver import SHOP

SALT = bytes(16)
OP, OP_PIN = "op1", "1234"
SUP, SUP_PIN = "sup1", "9999"
SIZE = (100, 32)


@pytest.fixture(scope="session")
def pin_hashes() -> dict[str, str]:
    return {OP_PIN: hash_pin(OP_PIN, SALT), SUP_PIN: hash_pin(SUP_PIN, SALT)}


@pytest.fixture
def shop_kiosk(kiosk, server, pin_hashes):
    """The enrolled kiosk after the server published PIN-carrying operators."""
    server.put("operator", OP, OperatorRec(id=OP, shop=SHOP, name="刘阿姨", role="operator",
                                           pin_hash=pin_hashes[OP_PIN], status="active"), SHOP)
    server.put("operator", SUP, OperatorRec(id=SUP, shop=SHOP, name="陈主管", role="supervisor",
                                            pin_hash=pin_hashes[SUP_PIN], status="active"), SHOP)
    assert kiosk.sync().ok
    return kiosk


@pytest.fixture
def make_app(shop_kiosk):
    def make(**kwargs) -> KioskApp:
        kwargs.setdefault("auto_sync", False)
        return KioskApp(shop_kiosk, **kwargs)

    return make


@pytest.fixture
def posted():
    return []


@pytest.fixture
def run(make_app, posted):
    """Run the app at SIZE; collects every Recorded message in ``posted``."""

    def hook(message):
        if isinstance(message, Recorded):
            posted.append(message)

    def run_(**kwargs):
        app = make_app(**kwargs)
        return app, app.run_test(size=SIZE, message_hook=hook)

    return run_


async def type_text(pilot, text: str) -> None:
    await pilot.press(*list(text))


async def sign_in(pilot, op: str = OP, pin: str = OP_PIN) -> None:
    await type_text(pilot, op)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await pilot.pause()


def screen_name(app) -> str:
    return type(app.screen).__name__


def message_text(app) -> str:
    return str(app.screen.query_one("#message").render())


async def open_resident(pilot, card: str) -> None:
    await type_text(pilot, card)
    await pilot.press("enter")
    await pilot.pause()


#: keys of ``typed`` text that are named keys to Textual
NAMED_KEYS = {"\t": "tab", "\n": "enter", "+": "plus", "-": "minus"}


async def burst(pilot, *keys: str) -> None:
    """Post every key to the app at once, then wait until the app has handled them all."""
    app = pilot.app
    for key in keys:
        name = NAMED_KEYS.get(key, key)
        char = key if len(key) == 1 else {"tab": "\t", "enter": "\r", "plus": "+", "minus": "-"}.get(name)
        app.post_message(events.Key(name, char))
    for _ in range(500):
        await pilot.pause()
        if not app.typeahead.pending:
            break
    await pilot.pause()


def typed(text: str) -> list[str]:
    """Keys of a string; ``\\t`` is Tab and ``\\n`` is Enter."""
    return list(text)


async def signed_in(pilot) -> None:
    await burst(pilot, *typed(f"{OP}\t{OP_PIN}\n"))
    assert screen_name(pilot.app) == "FindScreen"
