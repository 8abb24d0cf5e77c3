"""A stolen kiosk holds only what its shop serves (issue 11, Medium 6): the residents and
balances of the communities staff set for its shop (by default the shop's own), and the
PIN hashes of its own shop's operators; a community dropped from the set is dropped from
the kiosk on its next sync. A real kiosk (KioskService) over the real app."""

import pytest

from server.cli import main
from server.errors import NotFound
from server.services.manage import set_shop_serves
from server.services.staff import SYSTEM
from tests.server.conftest import CARD_A, CARD_B


def mirrored(svc, table: str, column: str) -> set[str]:
    return {r[0] for r in svc.store.db.conn.execute(f"SELECT {column} FROM {table}").fetchall()}  # the test's own look


def test_a_kiosk_mirrors_only_its_shops_community(inprocess_kiosk):
    svc = inprocess_kiosk()  # at S01, of SQ01
    assert mirrored(svc, "residents", "community") == {"SQ01"}
    assert svc.resident(CARD_A) is not None and svc.resident(CARD_B) is None
    assert CARD_B not in mirrored(svc, "balances", "card")
    assert mirrored(svc, "operators", "shop") == {"S01"}


def test_staff_widen_and_narrow_what_a_shop_serves(inprocess_kiosk, server_dir, capsys):
    svc = inprocess_kiosk()
    data = ["--data", str(server_dir)]
    assert main(["shop", "serves", "S01", "SQ01", "SQ02", *data]) == 0, capsys.readouterr().err
    assert "SQ01, SQ02" in capsys.readouterr().out
    assert svc.sync().ok
    assert svc.resident(CARD_B) is not None and mirrored(svc, "residents", "community") == {"SQ01", "SQ02"}
    assert CARD_B in mirrored(svc, "balances", "card")
    assert main(["shop", "serves", "S01", *data]) == 0  # back to its own community
    assert svc.sync().ok
    assert svc.resident(CARD_B) is None and mirrored(svc, "residents", "community") == {"SQ01"}
    assert CARD_B not in mirrored(svc, "balances", "card")


def test_serving_an_unknown_community_is_refused(inprocess_kiosk, app_server):
    with pytest.raises(NotFound):
        set_shop_serves(app_server.ctx, SYSTEM, "S01", ["SQ01", "NOPE"])
