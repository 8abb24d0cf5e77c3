"""Who is at the counter: operator sign-in with PIN check and lockout, and the supervisor
check a void needs.

PINs are checked offline against the hash the server published (``sync.passwords``). Repeated
wrong PINs lock that operator id out for a while; the count lives in the kiosk database
(meta), so restarting the app does not reset it. Unknown ids and wrong PINs get the same
words, so the sign-in screen does not tell a stranger which ids exist. Imports no Textual.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.errors import SignInRefused
from kiosk.store import Store
from sync import codes
from sync.passwords import verify

MAX_FAILURES = 5
LOCKOUT_SECONDS = 5 * 60


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    role: str  # "operator" | "supervisor"
    signed_in_at: int

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


class Counter:
    """Sign-in state of one kiosk. ``clock`` returns UTC ms (injected for tests)."""

    def __init__(self, store: Store, clock: Callable[[], int]):
        self.store = store
        self.clock = clock

    def sign_in(self, operator_id: str, pin: str) -> Operator:
        """The operator, if the PIN matches and the id is not locked out."""
        op_id = codes.clean(operator_id)
        if op_id:
            op_id = codes.normalise_or_none("operator", op_id) or _bad_operator(op_id)
        row = self.store.operator(op_id) if op_id else None
        now = self.clock()
        state = self._failures(op_id) if row else {"fails": 0, "until": 0}
        if state["until"] > now:
            raise SignInRefused("signin_locked", operator=op_id, minutes=-(-(state["until"] - now) // 60_000))
        if row is None or row["status"] != "active" or not verify(pin, row["pin_hash"], self.store.pin_pepper):
            if row is None:
                raise SignInRefused("signin_wrong", operator=op_id, left=MAX_FAILURES)
            return self._fail(op_id, state, now)
        if row["shop"] != (self.store.meta("shop") or row["shop"]):
            raise SignInRefused("signin_other_shop", operator=op_id)
        self.store.set_meta(**{_key(op_id): None})
        if self.store.meta("shift_start_kseq") is None:
            self.open_shift()
        return Operator(row["id"], row["name"], row["role"], now)

    def supervisor(self, operator_id: str, pin: str) -> Operator:
        """Like ``sign_in`` (same lockout), but only a supervisor passes."""
        op = self.sign_in(operator_id, pin)
        if not op.is_supervisor:
            raise SignInRefused("signin_not_supervisor", operator=op.id)
        return op

    def open_shift(self) -> None:
        """A shift covers the events after the newest one recorded now."""
        recent = self.store.recent_events(1)
        self.store.set_meta(shift_start_kseq=(recent[0]["kseq"] + 1) if recent else 1,
                            shift_started_at=self.clock())

    def _failures(self, op_id: str) -> dict:
        raw = self.store.meta(_key(op_id))
        return json.loads(raw) if raw else {"fails": 0, "until": 0}

    def _fail(self, op_id: str, state: dict, now: int) -> Operator:
        fails = state["fails"] + 1
        if fails >= MAX_FAILURES:
            # the count restarts after a lockout, so each lockout costs MAX_FAILURES tries
            self.store.set_meta(**{_key(op_id): json.dumps({"fails": 0, "until": now + LOCKOUT_SECONDS * 1000})})
            raise SignInRefused("signin_locked", operator=op_id, minutes=LOCKOUT_SECONDS // 60)
        self.store.set_meta(**{_key(op_id): json.dumps({"fails": fails, "until": 0})})
        raise SignInRefused("signin_wrong", operator=op_id, left=MAX_FAILURES - fails)


def _key(op_id: str) -> str:
    return f"signin_failures:{op_id}"


def _bad_operator(typed: str) -> str:
    # not an operator id in any form: say what one looks like (no failed attempt counted)
    raise SignInRefused("bad_code_operator", value=typed[:40])
