"""Request bodies of the staff API (/api). JSON in, validated by msgspec before any
service runs; unknown fields are refused so a typo never silently does nothing."""

from typing import Literal

import msgspec


class Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base for every staff API body."""


class SignIn(Body):
    username: str
    password: str


class NewStaff(Body):
    username: str
    role: Literal["admin", "reconciler", "community_manager", "auditor"]
    password: str | None = None
    communities: list[str] = []


class NewPassword(Body):
    """``current`` is required when changing your own password."""

    password: str
    current: str | None = None


class Resolve(Body):
    action: Literal["accept", "adjust", "charge-shop", "write-off"]
    note: str
    points: int | None = None


class Decision(Body):
    """Approving or declining a proposed resolution: why."""

    note: str


class VoiceAssign(Body):
    """Giving a letter or request to a staff account that may handle it."""

    staff: str


class VoiceReply(Body):
    """The answer to a letter or request, for the resident and the public handling log."""

    text: str


class ResidentIn(Body):
    name: str
    phone: str
    community: str
    status: Literal["active", "retired"] = "active"


class RuleIn(Body):
    """Only the fields given change. ``effective_at`` (UTC ms) defers the change."""

    name: str | None = None
    kind: Literal["basic", "encouraged", "prohibited"] | None = None
    points: int | None = None
    cap_day: int | None = None
    cap_month: int | None = None
    clear_caps: bool = False
    status: Literal["active", "retired"] | None = None
    effective_at: int | None = None


class GoodIn(Body):
    name: str
    unit: str
    price: int
    status: Literal["active", "retired"] = "active"


class ServesIn(Body):
    communities: list[str]


class ShopIn(Body):
    name: str
    community: str
    kind: Literal["shop", "station"]


class CommunityIn(Body):
    name: str
    street: str = ""


class OperatorIn(Body):
    shop: str
    name: str
    role: Literal["operator", "supervisor"] = "operator"
    pin: str | None = None
    status: Literal["active", "retired"] = "active"


class PinIn(Body):
    """A new operator PIN (4-8 digits); without one the server makes 6 random digits and
    returns them, once."""

    pin: str | None = None


class EnrollCodeIn(Body):
    shop: str
