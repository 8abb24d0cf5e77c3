"""``jifen-verify``: a good receipt prints what it says and exits 0; a tampered one, or a
keys file that is not the server's, exits non-zero naming the problem."""

from kiosk.verify import main
from sync import receipt as sync_receipt
from tests.sync.test_receipt import SERVER, OLD, event, published  # noqa: F401
from schema.wire import KioskKeys


def _keys(tmp_path, signer=SERVER):
    body = sync_receipt.keys_body(SERVER.public_hex, 1764039600000, [KioskKeys(
        kiosk="K0001", shop="S01", status="active", keys=sync_receipt.key_windows([(1, OLD.public_hex)]))])
    path = tmp_path / "keys.txt"
    path.write_bytes(sync_receipt.keys_file(body, signer.sign("keys", body)))
    return str(path)


def test_good_tampered_and_wrong_keys(tmp_path, capsys):
    text = sync_receipt.link("https://x/check", sync_receipt.encode(sync_receipt.sign(OLD, "K0001", 1, event())))
    assert main(["--keys", _keys(tmp_path), text]) == 0
    out = capsys.readouterr().out
    assert "查验通过" in out and "*********0001" in out and "加 2 分" in out and "K0001-1" in out
    forged = sync_receipt.encode(sync_receipt.sign(OLD, "K0001", 1, event(points=9)))[:-8] + "AAAAAAAA"
    assert main(["--keys", _keys(tmp_path), forged, "--lang", "en"]) == 1
    assert "does not verify" in capsys.readouterr().err
    assert main(["--keys", _keys(tmp_path, OLD), text]) == 1
    assert "keys_file" in capsys.readouterr().err
