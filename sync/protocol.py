"""Protocol constants, limits and the error table: every code, its HTTP status and what a
kiosk does next. docs/PROTOCOL.md is written from this table; a test keeps them in step.

Exception tree (every one carries a stable ``code`` and the offending id in ``detail``)::

    ProtocolError
      ├── RequestRejected      4xx: the request itself is wrong; never half-applied
      └── (the server's staff API errors subclass it with their own table: server/errors.py)
"""

from typing import ClassVar, Literal, TypeVar

from sync import codec

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})

#: the event kinds of the first release: what a server that publishes no ``accepts`` row
#: applies, so a kiosk sends it nothing else (docs/PROTOCOL.md, "Protocol evolution")
BASE_EVENT_KINDS = frozenset({"award", "redeem", "void", "stock_in"})

HEADER_KIOSK = "Jifen-Kiosk"
HEADER_SIGNATURE = "Jifen-Signature"
HEADER_VERSION = "Jifen-Version"

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_BATCH_EVENTS = 1000
KIOSK_BATCH_EVENTS = 500
MAX_PULL_LIMIT = 5000
DEFAULT_PULL_LIMIT = 2000
MAX_ITEMS_PER_EVENT = 100
#: the most history entries one ``POST /v1/history`` answers with (its ``limit``)
MAX_HISTORY_LIMIT = 500

#: what this release's server offers beyond push and pull, named in its ``offers`` feed row
#: (docs/PROTOCOL.md § 4.6): the signed requests it answers (``history``, ``log_proofs``,
#: ``lookup``, ``resident_lookup``) and ``projected``, the confirmation rows of § 4.7 (a batch counts as confirmed
#: once one covers it); a server that publishes none offers none of them
OFFERED_REQUESTS = ("history", "log_proofs", "lookup", "projected", "resident_lookup")

Action = Literal["retry", "resign", "resend_from", "stop", "upgrade", "fix_request"]

#: code -> (HTTP status, kiosk action, meaning). The single source of truth.
ERRORS: dict[str, tuple[int, Action, str]] = {
    "malformed_request": (400, "fix_request", "The body is not valid JSON of the expected shape; the message names the field."),
    "missing_header": (400, "fix_request", "A required header (Jifen-Kiosk, Jifen-Signature) is absent or empty."),
    "not_found": (404, "fix_request", "No endpoint at this path. Check the URL and the protocol version prefix (/v1)."),
    "method_not_allowed": (405, "fix_request", "The endpoint exists but not for this HTTP method."),
    "kiosk_mismatch": (400, "stop", "The kiosk id in the body differs from the Jifen-Kiosk header."),
    "bad_signature": (401, "resign", "The signature does not verify over the exact bytes received. The kiosk rebuilds the batch from its events and signs it again; if that fails too, it stops."),
    "unknown_kiosk": (401, "stop", "No kiosk with this id is enrolled."),
    "kiosk_revoked": (403, "stop", "Central staff revoked this kiosk. It must stop recording and be re-enrolled."),
    "key_retired": (403, "stop", "Central staff retired this kiosk's key (it may have leaked). Re-enrol with the code they give (jifen-kiosk rotate-key --code); nothing recorded is lost."),
    "rotation_refused": (409, "fix_request", "The key rotation cannot take effect: the new key is already known, or from_seq is behind batches the server holds."),
    "bad_enroll_code": (403, "fix_request", "The enrolment code is unknown, expired or already used."),
    "cursor_ahead": (409, "fix_request", "The pull cursor is beyond the head of the server's feed: no page this server signed ever handed it out (a restored server moves its feed above every cursor it gave)."),
    "fork": (409, "stop", "A different batch with this sequence number, or one that does not chain to the previous batch, was already accepted. Recorded as a tamper alert."),
    "body_too_large": (413, "resign", "The body exceeds the size limit. The kiosk rebuilds smaller batches."),
    "batch_too_large": (413, "resign", "The batch has more events than allowed. The kiosk rebuilds smaller batches."),
    "invalid_batch": (422, "stop", "The batch breaks a protocol rule (event sequence, totals, references that never existed, duplicate ids, a time before 2024 or more than 90 days ahead of the server's clock). Nothing in it was applied; it is quarantined."),
    "proof_unavailable": (404, "fix_request", "No such log proof: a tree size beyond the log, or a batch not (yet) in it."),
    "unknown_card": (404, "fix_request", "No resident holds this card (a lookup or history asks for an exact card, never a search)."),
    "other_county": (409, "fix_request", "The resident is of another county than the kiosk's: it asks POST /v1/lookup/resident for a signed statement instead (detail.county), and serves them online only."),
    "lookup_allowance": (429, "retry", "This kiosk has made its allowance of online lookups (or history requests) for the day (Asia/Shanghai); detail.retry_after_ms says when the next day begins."),
    "protocol_unsupported": (426, "upgrade", "The server does not speak this protocol version. Upgrade the kiosk."),
    "held_limit": (429, "retry", "The server already holds this kiosk's allowance of batches ahead of a gap in its chain; the kiosk sends the missing batch first (detail.next_seq)."),
    "rate_limited": (429, "retry", "Too many requests from this kiosk; retry after the delay given."),
    "internal_error": (500, "retry", "The server failed; nothing was applied. Retry later."),
    "unavailable": (503, "retry", "The server is starting or shutting down. Retry later."),
}


class ProtocolError(Exception):
    """A condition with a stable code from ``table`` (``ERRORS``; a subclass may name its
    own, in the same shape); ``detail`` names the offending ids."""

    table: ClassVar[dict[str, tuple[int, Action, str]]] = ERRORS

    def __init__(self, code: str, message: str, **detail: str | int | None):
        if code not in self.table:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail

    @property
    def status(self) -> int:
        return self.table[self.code][0]

    @property
    def action(self) -> Action:
        return self.table[self.code][1]


class RequestRejected(ProtocolError):
    """The request is wrong in itself; the server changed nothing but, perhaps, quarantine."""


T = TypeVar("T")


def decode_message(body: bytes, type_: type[T], what: str) -> T:
    """Decode any kiosk message (``what`` names it in the error) and check that its
    protocol version is one this side speaks."""
    try:
        msg = codec.decode(body, type_)
    except codec.DecodeError as exc:
        raise RequestRejected("malformed_request", f"{what} does not decode: {exc.message}") from None
    if msg.v not in SUPPORTED_VERSIONS:
        raise RequestRejected("protocol_unsupported", f"protocol version {msg.v} is not supported", version=msg.v)
    return msg


def decode_request(body: bytes, type_: type[T], header_kiosk: str, what: str) -> T:
    """Decode a verified kiosk message (a batch, pull or rotation request) and check what
    every one of them must hold: a known protocol version and the kiosk that signed it."""
    msg = decode_message(body, type_, what)
    if msg.kiosk != header_kiosk:
        raise RequestRejected("kiosk_mismatch", f"{what} names kiosk {msg.kiosk} but was sent as {header_kiosk}", kiosk=msg.kiosk)
    return msg


#: a receipt or keys file that does not check out: code -> (HTTP status, action, meaning).
#: The check page (``/check``) and ``jifen-verify`` name the problem by these codes.
RECEIPT_ERRORS: dict[str, tuple[int, Action, str]] = {
    "receipt_encoding": (400, "fix_request", "The text is not a receipt payload: not base32, cut short, or an unknown version."),
    "receipt_event": (400, "fix_request", "The payload's event does not decode, or belongs to another kiosk than the payload names."),
    "receipt_unknown_kiosk": (404, "stop", "The published keys name no kiosk with this id."),
    "receipt_signature": (400, "stop", "The signature does not verify under any key the kiosk ever held: the receipt was altered or forged."),
    "receipt_key_window": (400, "stop", "The signature is by a key of this kiosk, but that key was not the kiosk's key at the receipt's seq (a retired or re-keyed key)."),
    "keys_file": (400, "fix_request", "The keys file is not a published keys file, or its signature does not verify under the server key it names (or the one given)."),
}


class ReceiptRefused(ProtocolError):
    """A receipt payload or keys file that does not verify; ``code`` names what is wrong."""

    table = RECEIPT_ERRORS
