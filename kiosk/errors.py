"""Every exception the kiosk raises, as one tree: each carries a translation key
(``kiosk.i18n``) and the fields that message needs, including the offending id, so the CLI,
the app and background sync show the same words (``str()`` is the English text)::

    KioskError                      key + fields
      ├── NotEnrolled               no kiosk id yet: run enroll first
      ├── AlreadyEnrolled           enroll on a kiosk that has an id
      ├── KioskRevoked              central staff revoked this kiosk: no recording at all
      ├── InvalidInput              a value that can never be right (qty 0, a note too long)
      ├── BadCode                   a card, SKU, rule, operator or enrolment code that is not one
      ├── UnknownResident / ResidentRetired / UnknownRule / RuleRetired
      ├── UnknownSku / SkuRetired / UnknownOperator / OperatorRetired
      ├── InsufficientStock         a redeem wants more than the shop has
      ├── CapReached                an award past its rule's per-day or per-month cap
      ├── RedeemRefused             balance, lease or offline cap (sync.policy decided)
      ├── VoidRefused               unknown, foreign, void-of-void or already voided
      ├── VoiceRefused              a letter the server cannot take yet, a rating of another's, undone or rated item
      ├── TaskRefused               a volunteer task claim or completion this kiosk knows would not count
      ├── SignInRefused             wrong PIN, locked out, not a supervisor, another shop (kiosk.counter)
      ├── RekeyWrongKiosk           a re-enrolment code bound the new key to another kiosk id
      ├── KeyMissing                the kiosk's key file is gone
      ├── SchemaTooNew              the database was written by a newer kiosk release (the store refuses it)
      ├── InsecureServer            plain http to another machine without --insecure-http (kiosk.tls)
      ├── CertificateUnavailable    the server's certificate could not be fetched to pin (kiosk.tls)
      ├── ChainBroken               an event row was changed on disk (kiosk.syncing)
      ├── StorageFailed             the database or the disk refused (kiosk.store maps sqlite3's codes)
      │     ├── DiskFull            no room left: nothing of the refused write was kept
      │     ├── DiskReadOnly        the data folder or database file cannot be written
      │     ├── DatabaseLocked      another program holds the database
      │     └── DatabaseDamaged     the database file is corrupt, not a database, or unreadable
      ├── PrinterFailed             unplugged, out of paper, a write failed (kiosk.printer): the record is kept
      ├── NotOffered                the server answers no online lookup or history (an earlier release, kiosk.online)
      ├── LookupAllowanceSpent      this kiosk's online lookups (or history requests) for today are spent
      ├── OtherCountyOnlineOnly     a resident of another county, and no fresh signed statement of them (offline)
      ├── Offline                   the server could not be reached or did not verify (kiosk.client)
      └── Rejected                  a verified ErrorReply: code, action, message, detail

Private control flow inside one module (``kiosk.syncing``'s ``_Stop`` and ``_Held``) never
leaves it. ``tests/kiosk/test_errors.py`` checks this tree against the code.
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


class VoiceRefused(KioskError):
    key = "voice_refused"


class TaskRefused(KioskError):
    """``key``: ``task_not_accepted`` or ``task_<reason>`` (``sync.kinds.task_claim.REASONS``)."""

    key = "task_refused"


class SignInRefused(KioskError):
    """``key``: ``signin_wrong`` (with ``left`` tries), ``signin_locked`` (``minutes``),
    ``signin_not_supervisor``, ``signin_other_shop``, ``signin_no_pin`` (the CLI had no
    terminal to ask on) or ``bad_code_operator``."""

    key = "signin_wrong"


class RekeyWrongKiosk(KioskError):
    """The server bound the re-enrolled key to kiosk ``other``, not to this ``kiosk``."""

    key = "rekey_wrong_kiosk"


class KeyMissing(KioskError):
    """No key file at ``path``: enrolment never finished here, or the file was removed."""

    key = "key_missing"


class SchemaTooNew(KioskError):
    """The database was written by a newer kiosk release; refuse rather than corrupt it."""

    key = "schema_too_new"


class InsecureServer(KioskError):
    """A plain-http URL to another machine, without the operator's explicit consent."""

    key = "insecure_server"


class CertificateUnavailable(KioskError):
    """The server's certificate could not be fetched to pin it."""

    key = "certificate_unavailable"


class ChainBroken(KioskError):
    key = "chain_broken"


class StorageFailed(KioskError):
    """The database or the disk refused; the transaction was rolled back whole."""

    key = "storage_failed"


class DiskFull(StorageFailed):
    key = "disk_full"


class DiskReadOnly(StorageFailed):
    key = "disk_read_only"


class DatabaseLocked(StorageFailed):
    key = "database_locked"


class DatabaseDamaged(StorageFailed):
    key = "database_damaged"


class PrinterFailed(KioskError):
    """``key``: ``printer_unreachable``, ``printer_no_paper`` or ``printer_failed``."""

    key = "printer_failed"


class NotOffered(KioskError):
    """The server names no such request in its ``offers`` row, or answered ``404 not_found``
    (a release before online lookup): the kiosk shows what it holds, offline."""

    key = "lookup_not_offered"


class LookupAllowanceSpent(KioskError):
    key = "lookup_allowance"


class OtherCountyOnlineOnly(KioskError):
    """A resident of another county is served online only, one fresh signed statement per
    transaction (docs/PROTOCOL.md § 4.7): the server could not be asked now."""

    key = "other_county_online_only"


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
