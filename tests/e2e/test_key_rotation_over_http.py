"""Key rotation end to end, with the real console scripts against a real server process:
``jifen-kiosk rotate-key``, then a forced re-key (``jifen-server kiosk rotate`` and
``jifen-kiosk rotate-key --code``); nothing is lost and ``jifen-server audit`` passes."""

from kiosk.keys import load_key
from tests.e2e.conftest import cli, cli_json

CARD_RULE = "ZYFW"


def test_rotate_key_then_forced_rekey_over_http(server, make_kiosk, tmp_path):
    k = make_kiosk("ka")
    data = str(tmp_path / "ka")
    card = k.store._rows("SELECT card FROM residents WHERE status = 'active' ORDER BY card LIMIT 1")[0]["card"]
    k.award(card, CARD_RULE, "op1")
    assert k.sync().ok
    first = load_key(k.settings.key_path).public_hex

    out = cli_json("jifen-kiosk", "rotate-key", "--data", data)
    assert out["from_seq"] == 2 and out["public_key"] != first
    k.award(card, CARD_RULE, "op1")
    assert k.sync().ok

    code = server.json("kiosk", "rotate", k.kiosk_id)["code"]
    k.award(card, CARD_RULE, "op1")
    res = k.sync()
    assert not res.ok and res.detail.get("code") == "key_retired", res
    out = cli_json("jifen-kiosk", "rotate-key", "--code", code, "--data", data)
    assert out["kiosk"] == k.kiosk_id and out["from_seq"] == 3
    res = k.sync()
    assert res.ok and k.status()["pending_events"] == 0, res

    keys = server.json("kiosk", "keys", k.kiosk_id)
    assert [r["from_seq"] for r in keys] == [1, 2, 3]
    audit = server.json("audit")
    assert audit["ok"] and audit["batches"] >= 3, audit
    assert server.json("balance", card)["recent"][0]["event"] == f"{k.kiosk_id}-3"
