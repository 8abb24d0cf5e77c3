"""The programme's calendar. Times are stored in UTC milliseconds; days and months (caps,
boards, settlement, the offline daily cap) follow Asia/Shanghai local time."""

import unicodedata
from functools import lru_cache
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def local_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(LOCAL)


def local_day(ms: int) -> str:
    """'YYYY-MM-DD' of the programme day containing ``ms``."""
    return local_dt(ms).strftime("%Y-%m-%d")


def local_month(ms: int) -> str:
    """'YYYY-MM' of the programme month containing ``ms``."""
    return local_dt(ms).strftime("%Y-%m")


@lru_cache(maxsize=8192)
def _local_hour(hour: int) -> tuple[str, str]:
    dt = local_dt(hour * 3_600_000)
    return dt.strftime("%Y-%m-%d"), dt.strftime("%Y-%m")


def local_day_and_month(ms: int) -> tuple[str, str]:
    """(``local_day``, ``local_month``) of ``ms``, worked out once per hour of time rather
    than once per event (Asia/Shanghai's offsets, past and present, are whole hours, so
    every moment of one UTC hour lies in one local day)."""
    return _local_hour(ms // 3_600_000)


def month_bounds(month: str) -> tuple[int, int]:
    """[start, end) in UTC ms of a local month 'YYYY-MM'."""
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=LOCAL)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def day_bounds(day: str) -> tuple[int, int]:
    """[start, end) in UTC ms of a local day 'YYYY-MM-DD'."""
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=LOCAL)
    s = int(start.timestamp() * 1000)
    return s, s + 86_400_000


def parse_local(text: str) -> int:
    """UTC ms of a time as staff write it: ``YYYY-MM-DD`` (the start of that programme day),
    ``YYYY-MM-DD HH:MM[:SS]`` in Asia/Shanghai, or ISO 8601 with its own offset (``Z``,
    ``+08:00``). ``ValueError`` saying what was expected for anything else."""
    value = unicodedata.normalize("NFKC", text).strip()
    try:
        if len(value) == 10:
            return day_bounds(value)[0]
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a time: {text[:40]!r} (expected YYYY-MM-DD or YYYY-MM-DD HH:MM, Asia/Shanghai,"
                         " or ISO 8601 with an offset)") from None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=LOCAL)).timestamp() * 1000)
