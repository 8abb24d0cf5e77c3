"""Every condition the kiosk reports to its operator, as one exception tree.

Each exception carries a translation key (``kiosk.i18n``) and the fields that message
needs, including the offending id, so the CLI and the app show the same words::

    KioskError                      key + fields; str() is the English text
      ├── NotEnrolled, AlreadyEnrolled
      ├── KioskRevoked              central staff revoked this kiosk: no recording at all
      ├── InvalidInput              a value that can never be right (qty 0, a note too long)
      ├── BadCode                   a card, SKU, rule, operator or enrolment code that is not one
      ├── UnknownResident / ResidentRetired / UnknownRule / RuleRetired
      ├── UnknownSku / SkuRetired / UnknownOperator / OperatorRetired
      ├── InsufficientStock
      ├── RedeemRefused             balance, lease or offline cap (sync.policy decided)
      ├── VoidRefused               unknown, foreign, void-of-void or already voided
      ├── ChainBroken               an event row was changed on disk
      ├── SyncStopped               the server told this kiosk to stop; operator must act
      ├── Offline                   the server could not be reached or did not verify
      └── Rejected                  a verified ErrorReply: code, action, message, detail
"""

from kiosk.i18n import t
from sync import codes


class KioskError(Exception):
    key = "error"

    def __init__(self, key: str | None = None, **fields):
        self.key = key or type(self).key
        self.fields = fields
        super().__init__(t(self.key, "en", **fields))


class NotEnrolled(KioskError):
    key = "not_enrolled"


class AlreadyEnrolled(KioskError):
    key = "already_enrolled"


class KioskRevoked(KioskError):
    key = "kiosk_revoked"


class InvalidInput(KioskError):
    key = "invalid_input"


class BadCode(KioskError):
    """A code still invalid after ``sync.codes.normalise``; the message says what a valid one looks like."""

    def __init__(self, kind: str, value: str):
        super().__init__("bad_code_" + kind, value=value[:40])


def code(kind: str, text: str) -> str:
    """``sync.codes.normalise`` for the kiosk's entry points: ``BadCode`` in the operator's words."""
    try:
        return codes.normalise(kind, text)
    except codes.InvalidCode as exc:
        raise BadCode(kind, exc.value) from None


class UnknownResident(KioskError):
    key = "unknown_resident"


class ResidentRetired(KioskError):
    key = "resident_retired"


class UnknownRule(KioskError):
    key = "unknown_rule"


class RuleRetired(KioskError):
    key = "rule_retired"


class UnknownSku(KioskError):
    key = "unknown_sku"


class SkuRetired(KioskError):
    key = "sku_retired"


class UnknownOperator(KioskError):
    key = "unknown_operator"


class OperatorRetired(KioskError):
    key = "operator_retired"


class InsufficientStock(KioskError):
    key = "insufficient_stock"


class CapReached(KioskError):
    key = "cap_reached_day"


class RedeemRefused(KioskError):
    """``key`` is the reason sync.policy.check_redeem gave."""


class VoidRefused(KioskError):
    key = "void_unknown"


class ChainBroken(KioskError):
    key = "chain_broken"


class SyncStopped(KioskError):
    key = "sync_stopped"


class Offline(KioskError):
    """Transport failure, timeout, or a response that is garbled or does not verify."""

    key = "offline"

    def __init__(self, why: str):
        super().__init__(why=why)
        self.why = why


class Rejected(KioskError):
    """The server answered, verifiably, with an ErrorReply."""

    key = "rejected"

    def __init__(self, code: str, action: str, message: str, detail: dict | None = None):
        super().__init__(code=code, message=message)
        self.code = code
        self.action = action
        self.message = message
        self.detail = dict(detail or {})
