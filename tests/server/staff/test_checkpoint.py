"""Signed checkpoints over the batch log: each newer one extends the older ones, kiosks
receive them by pull, and ``audit`` catches an edited posting or a deleted batch — even
when the server's own checkpoints are rewritten, a kiosk's copy still catches it."""

import json
import sqlite3

import msgspec
import pytest

from schema.wire import CheckpointRec
from server.cli import main
from server.services.audit import audit
from server.services.checkpoint import check_held, make_checkpoint
from sync import checkpoint as cp
from sync.signing import VerifyKey
from tests.server.helpers import reply_of
from tests.server.staff.conftest import CARD_C, SQ01_CARD


@pytest.fixture
def logged(kiosk, ctx, clock):
    """Two checkpoints with kiosk batches between them."""
    first = make_checkpoint(ctx)
    for card in (SQ01_CARD, CARD_C):
        clock.advance(60_000)
        assert kiosk.push(kiosk.batch(kiosk.award(card, "ZYFW", 10), kiosk.redeem(card, ("SALT", 1, 10)))).status_code == 200
    second = make_checkpoint(ctx)
    return first, second


def failures(ctx, check: str = "checkpoint") -> list[dict]:
    return [f for f in audit(ctx).failures if f["check"] == check]


def test_checkpoints_extend_and_audit_passes(ctx, logged):
    first, second = logged
    assert (first["n"], second["n"]) == (1, 2) and second["size"] == first["size"] + 2
    assert make_checkpoint(ctx)["new"] is False  # nothing new: no new checkpoint
    VerifyKey(ctx.key.public_hex).verify("checkpoint", second["body"].encode(), second["signature"])
    report = audit(ctx)
    assert report.ok, report.failures


def test_kiosks_receive_the_latest_checkpoint(ctx, kiosk, logged):
    page = reply_of(kiosk.pull(limit=5000), ctx)
    [change] = [c for c in page["changes"] if c["kind"] == "checkpoint"]
    rec = msgspec.convert(change["data"], CheckpointRec)
    assert rec.n == 2 and change["key"] == "latest"
    VerifyKey(kiosk.server_key).verify("checkpoint", cp.body(rec.n, rec.size, rec.head, rec.at), rec.signature)


def test_an_edited_posting_is_caught(ctx, settings, logged):
    conn = sqlite3.connect(settings.db_path)
    with conn:  # move 10 points between two postings of one event: balanced, so only the checkpoint sees it
        rows = conn.execute("SELECT id FROM postings WHERE event = (SELECT event FROM postings ORDER BY id DESC LIMIT 1) ORDER BY id").fetchall()
        conn.execute("UPDATE postings SET amount = amount + 10 WHERE id = ?", rows[0])
        conn.execute("UPDATE postings SET amount = amount - 10 WHERE id = ?", rows[1])
        conn.execute("UPDATE balances SET points = (SELECT sum(amount) FROM postings p WHERE p.account = balances.account)")
    conn.close()
    found = failures(ctx)
    assert found and "changed since it was checkpointed" in found[0]["message"]
    assert any("no longer produce the signed head" in f["message"] for f in found)


def test_a_deleted_batch_is_caught(ctx, settings, kiosk, logged):
    conn = sqlite3.connect(settings.db_path)
    conn.execute("PRAGMA foreign_keys=OFF")
    with conn:  # remove the last batch and everything derived from it
        ev = "SELECT id FROM events WHERE kiosk = ? AND batch_seq = 2"
        conn.execute(f"DELETE FROM postings WHERE event IN ({ev})", [kiosk.id])
        conn.execute(f"DELETE FROM stock_moves WHERE event IN ({ev})", [kiosk.id])
        conn.execute("DELETE FROM events WHERE kiosk = ? AND batch_seq = 2", [kiosk.id])
        conn.execute("DELETE FROM batches WHERE kiosk = ? AND seq = 2", [kiosk.id])
    conn.close()
    assert any(f"{kiosk.id}/2" in f["subject"] and "no longer stored" in f["message"] for f in failures(ctx))


def test_a_kiosk_copy_catches_a_rewritten_log(ctx, settings, kiosk, logged):
    """An attacker deletes a batch and rebuilds the log and checkpoints to match: the
    server's own audit is fooled, a checkpoint a kiosk kept is not."""
    _, second = logged
    held = CheckpointRec(v=1, n=second["n"], size=second["size"], head=second["head"], at=second["at"], signature=second["signature"])
    assert check_held(ctx, held) == []
    conn = sqlite3.connect(settings.db_path)
    conn.execute("PRAGMA foreign_keys=OFF")
    with conn:
        ev = "SELECT id FROM events WHERE kiosk = ? AND batch_seq = 2"
        conn.execute(f"DELETE FROM postings WHERE event IN ({ev})", [kiosk.id])
        conn.execute(f"DELETE FROM stock_moves WHERE event IN ({ev})", [kiosk.id])
        conn.execute("DELETE FROM events WHERE kiosk = ? AND batch_seq = 2", [kiosk.id])
        conn.execute("DELETE FROM batches WHERE kiosk = ? AND seq = 2", [kiosk.id])
        conn.execute("DELETE FROM checkpoint_log")
        conn.execute("DELETE FROM checkpoint_states")
        conn.execute("DELETE FROM checkpoint_rows")
        conn.execute("DELETE FROM tree_heads")
        conn.execute("DELETE FROM checkpoints")
    conn.close()
    make_checkpoint(ctx)  # the attacker cannot sign an old head, but can sign a new log
    assert failures(ctx) == []
    caught = check_held(ctx, held)
    assert caught and caught[0]["subject"] == f"held/{held.n}", caught
    kept = settings.data_dir.parent / "kiosk-checkpoints.json"
    kept.write_text(json.dumps([msgspec.to_builtins(held)]))
    assert main(["audit", "--held", str(kept), "--data", str(settings.data_dir)]) == 1


def test_checkpoint_cli(settings, logged, capsys):
    assert main(["checkpoint", "--data", str(settings.data_dir)]) == 0
    assert "checkpoint 2" in (out := capsys.readouterr().out) and "(unchanged)" in out
    assert main(["audit", "--data", str(settings.data_dir)]) == 0
    kept = settings.data_dir.parent / "kiosk-checkpoints.json"
    kept.write_text(json.dumps([{k: c[k] for k in ("n", "size", "head", "at", "signature")} | {"v": 1} for c in logged]))
    assert main(["audit", "--held", str(kept), "--data", str(settings.data_dir)]) == 0
