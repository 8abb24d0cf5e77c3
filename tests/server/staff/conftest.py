"""Fixtures for the staff API: one account per role (added once to a copy of the root demo
template, which each test then copies), bearer tokens on demand, and activity that raises
review items."""

import shutil

import pytest

from server.services import open_context
from server.services.staff import SYSTEM, add_staff
from server.settings import Settings
from server.store import ledger
from tests.conftest import Clock
from tests.server.conftest import CARD_A, CARD_B

PASSWORD = "correct horse 1"
ACCOUNTS = {  # username -> (role, communities)
    "ada": ("admin", ()),
    "rex": ("reconciler", ()),
    "cmo": ("community_manager", ("SQ01",)),
    "aud": ("auditor", ()),
}
ROLE_USER = {role: name for name, (role, _) in ACCOUNTS.items()}
CARD_C = "5106810100002"  # a second SQ01 resident
SQ01_CARD, SQ02_CARD = CARD_A, CARD_B


@pytest.fixture(scope="session")
def staff_template(server_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("staff-template") / "server"
    shutil.copytree(server_template, path)
    ctx = open_context(Settings(data_dir=path, clock=Clock()))
    for name, (role, comms) in ACCOUNTS.items():
        add_staff(ctx, SYSTEM, name, role, PASSWORD, comms)
    ctx.close()
    return path


@pytest.fixture
def settings(tmp_path, staff_template, clock) -> Settings:
    data = tmp_path / "server"
    shutil.copytree(staff_template, data)
    return Settings(data_dir=data, clock=clock)


@pytest.fixture
def login(client):
    """``login('admin')`` -> headers with a fresh bearer token for that role's account."""
    cache = {}

    def make(role: str) -> dict:
        if role not in cache:
            resp = client.post("/api/session", json={"username": ROLE_USER[role], "password": PASSWORD})
            assert resp.status_code == 200, resp.text
            cache[role] = {"Authorization": f"Bearer {resp.json()['token']}"}
        return cache[role]

    return make


@pytest.fixture
def principal(ctx):
    from server.services.staff import acting_as

    return lambda role: acting_as(ctx, ROLE_USER[role])


def overdraft(kiosk, ctx, card: str) -> int:
    """Make ``card`` redeem more than its balance at ``kiosk``; return the overdraft item id."""
    from tests.server.helpers import points

    have = points(ctx, card)
    qty = max(have, 0) // 50 + 1  # TOWEL costs 50
    resp = kiosk.push(kiosk.batch(kiosk.redeem(card, ("TOWEL", qty, 50))))
    assert resp.status_code == 200, resp.text
    with ctx.store.read() as db:
        return max(i["id"] for i in ledger.list_reviews(db) if i["kind"] == "overdraft" and i["resident"] == card)


@pytest.fixture
def items(enrolled, ctx):
    """One open overdraft item in SQ01 (at S01) and one in SQ02 (at S02)."""
    k1, k2 = enrolled(1, "S01"), enrolled(2, "S02")
    return {"SQ01": overdraft(k1, ctx, SQ01_CARD), "SQ02": overdraft(k2, ctx, SQ02_CARD), "k1": k1, "k2": k2}

