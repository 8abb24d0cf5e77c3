"""``jifen-server keys export``: the published keys file verifies under the server key and
is refused once altered (demo data enrols no kiosk; the key windows are tested in tests/sync/test_receipt.py)."""

from server.cli import main
from server.services import open_context
from server.settings import Settings
from sync import receipt as sync_receipt


def test_keys_export_writes_a_file_signed_by_the_server_key(tmp_path, capsys):
    data, out = tmp_path / "server", tmp_path / "keys.txt"
    assert main(["demo-data", "--data", str(data)]) == 0
    assert main(["keys", "export", str(out), "--data", str(data)]) == 0
    ctx = open_context(Settings(data_dir=data))
    try:
        server_key = ctx.key.public_hex
    finally:
        ctx.close()
    published = sync_receipt.read_keys_file(out.read_bytes(), server_key)
    assert published.server_key == server_key and all(k.keys and k.keys[0].from_seq == 1 for k in published.kiosks)
    import pytest
    from sync.protocol import ReceiptRefused

    with pytest.raises(ReceiptRefused):
        sync_receipt.read_keys_file(out.read_bytes().replace(b'"v":1', b'"v":2'), server_key)
