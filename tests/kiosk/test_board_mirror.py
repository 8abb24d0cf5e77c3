"""The kiosk keeps the public board and the server's checkpoints it pulls; ``rank`` reads
the board. Old kinds and unknown kinds keep working."""

from schema.wire import BoardLine, BoardRec, CheckpointRec
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


def test_checkpoints_pulled_are_all_kept(kiosk, server):
    for n in (1, 2):
        server.put("checkpoint", "latest", CheckpointRec(v=1, n=n, size=10 * n, head=f"{n}" * 64, at=1_764_000_000_000 + n, signature="ab" * 64))
        assert kiosk.sync().ok
    assert [(c["n"], c["size"]) for c in kiosk.store.checkpoints()] == [(1, 10), (2, 20)]


def test_unknown_kinds_are_ignored(kiosk, server):
    server.put("mailbox", "x", BoardRec(community="C001", month="2025-11", published=1_764_000_000_000, ranked=0, top=[]))
    assert kiosk.sync().ok
