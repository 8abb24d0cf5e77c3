"""Every error the server raises on purpose, and the codes the staff API answers with.

Each one that can reach a client is a ``ProtocolError``: a stable machine ``code``, a human
``message`` and ``detail`` naming the offending ids. They all leave in the one
``ErrorReply`` shape (``server.replies``); the CLI prints the message and exits 2 (3 for a
conflict). The kiosk protocol's codes are ``sync.protocol.ERRORS`` (kiosks read them);
the staff API's are ``STAFF_ERRORS`` here (kiosks never see them)::

    Exception
     ├── sync.protocol.ProtocolError       code from sync.protocol.ERRORS (the kiosk protocol)
     │    ├── sync.protocol.RequestRejected   a kiosk request is wrong in itself; nothing applied
     │    └── StaffError                   code from STAFF_ERRORS: a staff use case refused
     │         ├── Unauthorized            401 unauthorized: no live bearer token, disabled account
     │         ├── Forbidden               403 forbidden: role or community scope does not allow it
     │         │    └── PublicRatingRefused  the public page will not take this rating: wrong phone digits, locked, no phone (server.services.voice)
     │         ├── NotFound                404 not_found: a named thing (shop, kiosk, resident, …) does not exist
     │         ├── Conflict                409 conflict: someone changed it first
     │         │    ├── SealRefused        a checkpoint is not signed over what fails audit (server.services.checkpoint)
     │         │    └── LedgerBehind       409 ledger_behind: the projection did not catch up with the log in time (server.services.central)
     │         ├── Invalid                 422 invalid_input: well-formed, but a value is not acceptable
     │         ├── SignInLocked            429 rate_limited: too many failed sign-ins (server.services.throttle)
     │         └── PagesLimited            429 rate_limited: too many public page requests from one address (server.ratelimit)
     ├── ServerKeyChanged (RuntimeError)   server.key does not match the database (open_context, restore)
     ├── server.keys.KeyFileCorrupt (ValueError)     server.key cannot be read as a key
     ├── server.store.backup.BackupCorrupt (ValueError), DatabaseInUse (RuntimeError)   backup / restore
     └── server.store.db.MigrationRefused (RuntimeError)   a migration found data a person must fix first

Anything else reaching the HTTP edge is a bug: logged, answered ``500 internal_error``.
"""

from typing import ClassVar

from sync.protocol import Action, ProtocolError

#: code -> (HTTP status, what the caller does, meaning): the staff API's codes (docs/PROTOCOL.md § 5).
STAFF_ERRORS: dict[str, tuple[int, Action, str]] = {
    "unauthorized": (401, "fix_request", "Staff API: no bearer token, or one that is unknown, expired or signed out. Sign in again."),
    "forbidden": (403, "fix_request", "Staff API: the signed-in role or community scope does not allow this."),
    "not_found": (404, "fix_request", "Staff API: the named thing (shop, kiosk, resident, staff account, review item, ...) does not exist."),
    "conflict": (409, "fix_request", "Staff API: the thing changed first (a review item already resolved, a username taken)."),
    "ledger_behind": (409, "retry", "Staff API: the action reads the ledger (a charge's overdraft) and the projection is still behind the log after JIFEN_PROJECTION_WAIT_SECONDS; nothing was applied. Retry once the projector caught up."),
    "invalid_input": (422, "fix_request", "Staff API: the request is well-formed but its values are not acceptable (unknown role, bad month, a points value out of range)."),
    "rate_limited": (429, "retry", "Staff API: too many failed sign-ins for this username or address; retry after the delay given."),
}


class StaffError(ProtocolError):
    """A staff use case refused; the code is one of ``STAFF_ERRORS``."""

    table: ClassVar[dict[str, tuple[int, Action, str]]] = STAFF_ERRORS


class Unauthorized(StaffError):
    def __init__(self, message: str = "sign in first: no valid bearer token"):
        super().__init__("unauthorized", message)


class Forbidden(StaffError):
    def __init__(self, message: str, **detail):
        super().__init__("forbidden", message, **detail)


class PublicRatingRefused(Forbidden):
    """A rating on the public page refused (``server.services.voice.rate_public``), nothing
    recorded but the wrong try: ``reason`` is ``wrong_phone`` (the last four phone digits do
    not match; ``tries_left`` before the item is locked), ``locked`` (too many wrong tries for
    this item) or ``no_phone`` (its resident has no phone on file); for the last two the
    resident rates at a kiosk, where the card must match."""

    def __init__(self, code: str, reason: str, tries_left: int = 0):
        words = {"wrong_phone": f"the phone's last four digits do not match; {tries_left} tries left for {code}",
                 "locked": f"too many wrong phone digits for {code}: rate it at a service station",
                 "no_phone": f"no phone on file for the resident of {code}: rate it at a service station"}
        StaffError.__init__(self, "forbidden", words[reason], item=code, reason=reason,
                            **({"tries_left": tries_left} if reason == "wrong_phone" else {}))
        self.reason = reason


class NotFound(StaffError):
    """``what`` (shop, kiosk, resident, staff, review item, ...) ``key`` does not exist."""

    def __init__(self, what: str, key: str | int):
        super().__init__("not_found", f"{what} {key} does not exist", **{what.replace(" ", "_"): key})
        self.what = what
        self.key = key


class Conflict(StaffError):
    def __init__(self, message: str, **detail):
        super().__init__("conflict", message, **detail)


class SealRefused(Conflict):
    """A checkpoint would seal state that fails the audit's checks; ``failures`` lists them."""

    def __init__(self, failures: list[dict]):
        shown = "; ".join(f"{f['subject']}: {f['message']}" for f in failures[:5])
        super().__init__(f"no checkpoint signed: {len(failures)} audit failures ({shown})", failures=failures)


class LedgerBehind(Conflict):
    """An action that reads the ledger (``action``) found it still ``behind`` batches of the
    log after waiting ``waited_seconds`` for the projector (``JIFEN_PROJECTION`` separate or
    background): refused, nothing applied, worth retrying."""

    def __init__(self, action: str, behind: int, waited_seconds: float):
        StaffError.__init__(self, "ledger_behind",
                            f"{action} reads the ledger, which is {behind} batches behind the log after waiting"
                            f" {waited_seconds:g} s for the projector; nothing was done, try again shortly",
                            action=action, behind=behind, waited_seconds=waited_seconds)


class Invalid(StaffError):
    def __init__(self, message: str, **detail):
        super().__init__("invalid_input", message, **detail)


class SignInLocked(StaffError):
    """``what`` is ``user`` (this username from this address) or ``ip`` (this address);
    ``retry_after_ms`` until it unlocks."""

    def __init__(self, what: str, retry_after_ms: int):
        whom = "this username from this address" if what == "user" else "this address"
        super().__init__("rate_limited", f"too many failed sign-ins for {whom}; "
                         f"try again in {retry_after_ms // 1000 + 1} s", retry_after_ms=retry_after_ms)


class PagesLimited(StaffError):
    """An address spent its allowance of public page requests (``server.ratelimit.PageLimit``);
    ``retry_after_ms`` until the next one is let through."""

    def __init__(self, address: str, retry_after_ms: int):
        super().__init__("rate_limited", f"too many public page requests from {address}; "
                         f"try again in {retry_after_ms // 1000 + 1} s", retry_after_ms=retry_after_ms)


class ServerKeyChanged(RuntimeError):
    """server.key does not match the key this database was created with: every stored
    central batch and every kiosk's pinned key would stop verifying."""

    def __init__(self, stored: str, loaded: str):
        super().__init__(f"server.key holds public key {loaded} but the database was made with {stored}")
        self.stored = stored
        self.loaded = loaded
