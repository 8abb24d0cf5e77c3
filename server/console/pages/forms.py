"""What the console's forms send, read as a use case takes it: whole numbers, optional
numbers and times written in Asia/Shanghai, each refused by the name of its field (an
``Invalid`` with ``field``, which the error page words) instead of a traceback."""

from typing import Annotated

from litestar.enums import RequestEncodingType
from litestar.params import Body

from server.console import web
from server.errors import Invalid
from sync.calendar import parse_local

#: the fields these forms name, for the error page's words (``server.console.web.error_text``)
web.INVALID_WORDS.update({"price": "invalid_price", "cap_day": "invalid_cap", "cap_month": "invalid_cap",
                          "effective_at": "invalid_effective_at", "file": "invalid_file", "format": "invalid_other",
                          "report": "invalid_other", "table": "invalid_other"})

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def text(data: dict, field: str) -> str:
    return (data.get(field) or "").strip()


def integer(data: dict, field: str) -> int:
    value = text(data, field)
    try:
        return int(value)
    except ValueError:
        raise Invalid(f"{field} must be a whole number", field=field) from None


def optional_integer(data: dict, field: str) -> int | None:
    return integer(data, field) if text(data, field) else None


def local_time(data: dict, field: str) -> int | None:
    """A ``datetime-local`` field (``YYYY-MM-DDTHH:MM``, Asia/Shanghai), or None when empty."""
    value = text(data, field)
    if not value:
        return None
    try:
        return parse_local(value.replace("T", " "))
    except ValueError:
        raise Invalid(f"{field} must be a date and time", field=field) from None
