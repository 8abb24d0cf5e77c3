"""A resident's name as the pinyin initials an operator types to find them: 张三明 → ``zsm``.

Operators at a busy counter often type the initials of a name instead of switching the
input method to Chinese, and so do central staff in the console. The kiosk computes them
once, when a resident is mirrored into its database (the kiosk store), and the server when a
resident is stored (the server store); both keep them in an indexed column, so a search by
initials is an index seek like a search by name. The readings come from ``pypinyin`` (a maintained
dictionary of Chinese readings).

Each character is looked up on its own and remembered: a first sync mirrors hundreds of
thousands of names made of a few thousand characters, and pypinyin's whole-phrase
conversion cost ~70 µs a name (35 s at 500,000 residents) where a remembered character costs
next to nothing. Phrase context hardly matters for given names; what does matter is the
surname, whose reading often differs from the character's everyday one (曾 is zēng as a
surname, céng in 曾经): the first character of a name is read as a surname where
``SURNAMES`` says so. Latin letters count by word (``Lily王`` → ``lw``); digits, spaces and
punctuation such as the middle dot of transliterated names are skipped.
"""

import unicodedata
from functools import cache

#: pypinyin's documented switches, which each entry point (``server.cli``, ``kiosk.cli``) sets
#: before pypinyin is first imported: this module asks it for one character at a time, which
#: its phrase dictionary never changes (every character of CJK Unified Ideographs, Extension A
#: and Extension B reads the same with and without it: ``tests/sync/test_initials.py``), and
#: that dictionary is ~45 MB of Python objects loaded at import, nearly half of a kiosk's
#: memory during its first sync. ``NO_DICT_COPY``: no private copy of the character table
#: (nothing here customises it).
PYPINYIN_ENVIRONMENT = {"PYPINYIN_NO_PHRASES": "1", "PYPINYIN_NO_DICT_COPY": "1"}

#: surnames whose initial differs from the character's most common reading in pypinyin
SURNAMES = {
    "曾": "z",  # zēng, not céng
    "单": "s",  # shàn, not dān
    "解": "x",  # xiè, not jiě
    "仇": "q",  # qiú, not chóu
    "区": "o",  # ōu, not qū
    "查": "z",  # zhā, not chá
    "乐": "y",  # yuè, not lè
    "覃": "q",  # qín, not tán
    "召": "s",  # shào, not zhào
    "种": "c",  # chóng, not zhǒng
    "秘": "b",  # bì, not mì
    "尉": "y",  # yù (尉迟), not wèi
    "繁": "p",  # pó, not fán
    "翟": "z",  # zhái, not dí
    "长": "c",  # cháng (长孙), not zhǎng
    "重": "c",  # chóng, not zhòng
}


@cache
def _letter(ch: str) -> str:
    """The initial of a Chinese character's most common reading; '' for anything else."""
    # imported on first use: loading pypinyin's dictionaries takes most of a second, which
    # every kiosk command would pay at start although only mirroring residents needs them
    from pypinyin import Style, pinyin

    try:
        reading = pinyin(ch, style=Style.FIRST_LETTER, errors=lambda _: [""])
    except IndexError:  # pypinyin 0.5x: a character it knows with an empty reading (𠮷)
        return ""
    letter = reading[0][0] if reading and reading[0] else ""
    return letter.lower() if letter.isascii() and letter.isalpha() else ""


def initials(name: str) -> str:
    """The pinyin initials of ``name``, lower-case ASCII letters only."""
    out: list[str] = []
    in_word = False  # inside a run of Latin letters: only its first one counts
    for ch in unicodedata.normalize("NFKC", name):
        if ch.isascii() and ch.isalpha():
            if not in_word:
                out.append(ch.lower())
            in_word = True
            continue
        in_word = False
        letter = (SURNAMES.get(ch) if not out else None) or _letter(ch)
        if letter:
            out.append(letter)
    return "".join(out)


def is_initials(text: str) -> bool:
    """Whether a search text could be initials: ASCII letters only."""
    return bool(text) and text.isascii() and text.isalpha()
