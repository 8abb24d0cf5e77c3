"""The public receipt check over the app (TestClient): a receipt signed by an enrolled
kiosk's key shows its status and balance, and once checkpointed the verified inclusion
proof; one signed by another key, or garbled, is refused in Chinese with its status."""

from server.services.checkpoint import make_checkpoint
from sync import codec
from sync import receipt as sync_receipt
from sync.signing import SigningKey
from tests.server.conftest import CARD_A


def receipt_of(key, kiosk_id: str, seq: int, event) -> str:
    return sync_receipt.encode(sync_receipt.sign(key, kiosk_id, seq, codec.encode(event)))


def test_status_balance_and_inclusion(client, ctx, kiosk):
    ev = kiosk.award(CARD_A, "ZYFW", 10)
    payload = receipt_of(kiosk.key, kiosk.id, 1, ev)
    page = client.get("/public/check", params={"r": payload})
    assert page.status_code == 200, page.text
    assert "查验通过" in page.text and "尚未同步" in page.text
    assert kiosk.push(kiosk.batch(ev)).status_code == 200
    page = client.get("/check", params={"r": payload})
    assert "已入账" in page.text and "还没有写入签名检查点" in page.text
    make_checkpoint(ctx)
    page = client.get("/check", params={"r": payload})
    assert "包含证明已验证" in page.text and CARD_A not in page.text


def test_forged_and_garbled_are_refused(client, kiosk):
    ev = kiosk.award(CARD_A, "ZYFW", 10)
    forged = receipt_of(SigningKey(bytes([9]) * 32), kiosk.id, 1, ev)
    page = client.get("/public/check", params={"r": forged})
    assert page.status_code == 400 and "查验不通过" in page.text
    page = client.get("/public/check", params={"r": "NOTARECEIPT"})
    assert page.status_code == 400 and "查验码" in page.text
    assert client.get("/public/check").status_code == 200
