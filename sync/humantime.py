"""Times written the way people in the programme write them, in Asia/Shanghai: a moment
(``2026年12月1日 14:05``, ``1 Dec 2026 14:05``), a day (``2026年12月1日``) and how long ago
(``3 天前``, ``3 days ago``). Pure: the moment and "now" are arguments, so a page and a test
render the same words."""

from sync.calendar import local_dt

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_written(ms: int, lang: str = "zh") -> str:
    d = local_dt(ms)
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


def written(ms: int | None, lang: str = "zh") -> str:
    """A moment, to the minute; '—' for none."""
    if ms is None:
        return "—"
    d = local_dt(ms)
    return f"{day_written(ms, lang)} {d.hour:02d}:{d.minute:02d}"


def month_written(month: str, lang: str = "zh") -> str:
    """'2026-12' as 2026年12月 / Dec 2026."""
    year, mon = (int(x) for x in month.split("-"))
    return f"{year}年{mon}月" if lang == "zh" else f"{_MONTHS_EN[mon - 1]} {year}"


_UNITS = ((86_400_000, "天", "day"), (3_600_000, "小时", "hour"), (60_000, "分钟", "minute"))


def ago(ms: int | None, now: int, lang: str = "zh") -> str:
    """How long before ``now`` ``ms`` was, in its largest whole unit: 3 天前 / 3 days ago;
    under a minute: 刚刚 / just now; in the future (a kiosk clock ahead): 刚刚 too."""
    if ms is None:
        return "从未" if lang == "zh" else "never"
    delta = now - ms
    for size, zh, en in _UNITS:
        if delta >= size:
            n = delta // size
            return f"{n} {zh}前" if lang == "zh" else f"{n} {en}{'s' if n != 1 else ''} ago"
    return "刚刚" if lang == "zh" else "just now"
