"""Constrained scalar types shared by every wire and domain struct.

They live in one place so that the server's validation, the kiosk's input checks and
docs/PROTOCOL.md all speak of the same limits. So do the two constants every hash chain
shares: ``GENESIS`` and ``CENTRAL_KIOSK``.
"""

from typing import Annotated

from msgspec import Meta

#: Points are integers, always. One award or price never exceeds a million points.
Points = Annotated[int, Meta(ge=-1_000_000, le=1_000_000)]
#: A non-negative amount of points (prices, totals).
Price = Annotated[int, Meta(ge=0, le=1_000_000)]
#: A quantity of goods in one line of a redemption or delivery.
Qty = Annotated[int, Meta(ge=1, le=10_000)]
#: Milliseconds since the Unix epoch, UTC. Bounded to years 2000..2200 to catch garbage.
Millis = Annotated[int, Meta(ge=946_684_800_000, le=7_258_118_400_000)]
#: A batch or event sequence number (gap-free per kiosk, starting at 1).
Seq = Annotated[int, Meta(ge=1, le=2**53)]
#: A feed cursor (0 = from the beginning).
Cursor = Annotated[int, Meta(ge=0, le=2**53)]

#: The hash every chain starts from (the ``prev`` of a first batch, the link before a
#: kiosk's first event, the head of an empty checkpoint log). The one copy: everything
#: else imports it.
GENESIS = "0" * 64
#: The kiosk id the server keeps its own chain of central events under (batches signed
#: under domain ``central``, event ids ``C-<n>``). No kiosk can have it: ``KioskId`` starts with K.
CENTRAL_KIOSK = "C"

KioskId = Annotated[str, Meta(pattern=r"^K[0-9]{4,12}$")]
#: "<kiosk id>-<kiosk event seq>", e.g. "K0001-42"; central events use "C-<n>".
EventId = Annotated[str, Meta(pattern=rf"^(K[0-9]{{4,12}}|{CENTRAL_KIOSK})-[1-9][0-9]{{0,15}}$")]
Card = Annotated[str, Meta(pattern=r"^[0-9A-Za-z]{4,32}$")]
Code = Annotated[str, Meta(pattern=r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$")]
OperatorId = Annotated[str, Meta(pattern=r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$")]
Hex64 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
Hex32 = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}$")]
Hex128 = Annotated[str, Meta(pattern=r"^[0-9a-f]{128}$")]  # an Ed25519 signature
#: a county's id, or ``''``: the default county, every community's not put in a county
CountyId = Annotated[str, Meta(pattern=r"^([0-9A-Za-z][0-9A-Za-z_.-]{0,31})?$")]
Text = Annotated[str, Meta(max_length=500)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
#: A letter's or request's tracking code (``sync.tracking``): kiosk digits, kseq, check digit.
TrackingCode = Annotated[str, Meta(pattern=r"^[0-9]{4,12}-[0-9]{4,16}-[0-9]$")]
#: What a resident said in a letter or request, or a reply: bounded, never empty.
VoiceText = Annotated[str, Meta(min_length=1, max_length=1000)]
#: A resident's rating of how a letter or request was handled.
Stars = Annotated[int, Meta(ge=1, le=5)]
