"""The kiosk keeps the public board and the server's checkpoints it pulls; ``rank`` reads
the board. Old kinds and unknown kinds keep working."""

import pytest

from schema.wire import BoardLine, BoardRec, CheckpointRec, ResidentRec
from sync.checkpoint import body as checkpoint_body
from sync.signing import SigningKey
from tests.kiosk.fakeserver import CARD, CARD2


def board(month: str, *lines: tuple[int, str, str, int]) -> BoardRec:
    return BoardRec(community="C001", month=month, published=1_764_000_000_000, ranked=len(lines),
                    top=[BoardLine(rank=r, card=c, name=n, points=p) for r, c, n, p in lines])


def test_rank_reads_the_newest_pulled_board(kiosk, server):
    assert kiosk.rank(CARD) is None  # nothing pulled yet
    server.put("board", "C001/2025-10", board("2025-10", (1, CARD2, "李*", 40), (2, CARD, "张*明", 12)))
    server.put("board", "C001/2025-11", board("2025-11", (1, CARD, "张*明", 30)))
    assert kiosk.sync().ok
    assert kiosk.rank(CARD) == {"community": "C001", "month": "2025-11", "rank": 1, "points": 30, "name": "张*明",
                                "ranked": 1, "published": 1_764_000_000_000}
    assert kiosk.rank(CARD2) is None  # not on this month's board


def checkpoint(server, n: int, size: int, head: str, key=None) -> CheckpointRec:
    at = 1_764_000_000_000 + n
    sig = (key or server.key).sign("checkpoint", checkpoint_body(n, size, head, at))
    return CheckpointRec(v=1, n=n, size=size, head=head, at=at, signature=sig)


def test_checkpoints_pulled_are_all_kept(kiosk, server):
    for n in (1, 2):
        server.put("checkpoint", "latest", checkpoint(server, n, 10 * n, f"{n}" * 64))
        assert kiosk.sync().ok
    server.put("checkpoint", "latest", checkpoint(server, 2, 20, "2" * 64))  # the same one again is fine
    assert kiosk.sync().ok
    assert [(c["n"], c["size"]) for c in kiosk.store.checkpoints()] == [(1, 10), (2, 20)]


def _two_checkpoints_then(kiosk, server, rec: CheckpointRec) -> int:
    for i in (1, 2):
        server.put("checkpoint", "latest", checkpoint(server, i, 10 * i, f"{i}" * 64))
        assert kiosk.sync().ok
    cursor = kiosk.status()["cursor"]
    server.put("resident", CARD2, ResidentRec(card=CARD2, name="李华华", phone_tail="1234", community="C001", status="active"))
    server.put("checkpoint", "latest", rec)
    return cursor


def test_a_checkpoint_not_signed_by_the_pinned_key_refuses_the_page(kiosk, server):
    cursor = _two_checkpoints_then(kiosk, server, checkpoint(server, 3, 30, "3" * 64, SigningKey(bytes([5]) * 32)))
    res = kiosk.sync()
    assert not res.ok and res.problem == "offline"
    assert kiosk.status()["cursor"] == cursor  # nothing on the page was applied
    assert kiosk.resident(CARD2)["name"] == "李华"
    assert [(c["n"], c["size"]) for c in kiosk.store.checkpoints()] == [(1, 10), (2, 20)]


@pytest.mark.parametrize("why,n,size,head", [
    ("the log shrank", 3, 15, "3" * 64),
    ("another head at the same size", 3, 20, "f" * 64),
    ("other contents under a number held", 2, 25, "2" * 64),
])
def test_a_checkpoint_that_does_not_extend_is_kept_out_and_alerts(kiosk, server, why, n, size, head):
    _two_checkpoints_then(kiosk, server, checkpoint(server, n, size, head))
    assert kiosk.sync().ok, why  # the kiosk keeps serving residents: pulls go on
    assert kiosk.resident(CARD2)["name"] == "李华华"
    assert [(c["n"], c["size"]) for c in kiosk.store.checkpoints()] == [(1, 10), (2, 20)]  # evidence kept as is
    assert "does not extend" in kiosk.status()["checkpoint_alert"]


def test_unknown_kinds_are_ignored(kiosk, server):
    server.put("mailbox", "x", BoardRec(community="C001", month="2025-11", published=1_764_000_000_000, ranked=0, top=[]))
    assert kiosk.sync().ok
