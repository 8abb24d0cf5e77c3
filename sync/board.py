"""The monthly public board (张榜公示): masking names and ranking residents. Pure.

``mask_name`` is the one way a resident's name is shown where others may read it: the
board and the kiosk's receipts (a receipt left on the counter names nobody) both use it.
``board_name`` is how a board line names its resident: the masked name told apart from
its neighbours' by the card's last four characters (张*明（…1234）), since a masked name
alone is shared within a community by about half of its residents. Every board a person
reads uses it: the public pages (``server.public``), the kiosk's board screen and the
console's board report with its downloads.

"Earned" in a month is the sum of the postings that award events (and voids of awards)
made to a resident's account with an event time in that local month: positive awards
minus deductions for prohibited conduct. Redemptions and central corrections are not
conduct, so they do not count.
"""

from collections.abc import Iterable


def mask_name(name: str) -> str:
    """张晓明 → 张*明, 张伟 → 张*, 欧阳娜娜 → 欧**娜; one character stays as it is.
    Whitespace is dropped first, wherever it is: registers pad two-character names to
    three cells (张　伟, with an ideographic space), and masking the space would show
    the whole name."""
    name = "".join(name.split())
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def card_tail(card: str) -> str:
    """The card's last four characters: what a board shows of it (a card is 4-32 letters
    and digits, so there always are four)."""
    return card[-4:]


def board_name(name: str, card: str) -> str:
    """张晓明, 5106810100123 → 张*明（…0123）. ``name`` may be the resident's name or its
    masked form (a board line pulled from the feed holds that): masking is idempotent."""
    return f"{mask_name(name)}（…{card_tail(card)}）"


def rank(earned: Iterable[tuple[str, int]]) -> list[tuple[int, str, int]]:
    """(rank, card, points), highest points first; ties share a rank (1, 1, 3) and are
    listed by card so the order is reproducible."""
    ordered = sorted(earned, key=lambda cp: (-cp[1], cp[0]))
    out: list[tuple[int, str, int]] = []
    for i, (card, points) in enumerate(ordered):
        r = out[-1][0] if out and out[-1][2] == points else i + 1
        out.append((r, card, points))
    return out
