"""The pull feed's kinds: one table, ``FEEDS``, read by the server that publishes and the
kiosk that mirrors.

For each kind: the record type its ``data`` decodes as, how its key and scope follow from
a record (scope ``''`` reaches every kiosk, a shop id only that shop's kiosks,
``community:<id>`` only the kiosks of the shops serving that community: residents and
their balances; ``county:<id>`` only the kiosks of that county, ``''`` for the default
county: boards), the kiosk
table it is mirrored into (with that table's key and how a record becomes a row), and for
reference data the server's table row it is published from. ``checkpoint``, ``checkpoint_note``, ``chain``,
``projected``, ``accepts`` and ``offers`` are acted on by the kiosk's sync round as well as (checkpoint) or instead of
(chain, projected, accepts, offers) mirrored. A kiosk skips a kind that is not in its table: the server may learn new kinds
before every kiosk has (docs/PROTOCOL.md, "Protocol evolution").
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from schema.wire import (
    AcceptsRec,
    BalanceRec,
    BoardRec,
    ChainRec,
    CheckpointNoteRec,
    CheckpointRec,
    CommunityRec,
    OffersRec,
    GoodRec,
    OperatorRec,
    ProjectedRec,
    ResidentRec,
    RuleRec,
    ServesRec,
    ShopRec,
    StockRec,
    TaskRec,
    VoiceReplyRec,
)


def _as_row(rec: Any, key: str) -> dict:
    return msgspec.to_builtins(rec)


COMMUNITY_SCOPE = "community:"


def community_scope(community: str) -> str:
    """The feed scope of a community's residents and balances."""
    return COMMUNITY_SCOPE + community


COUNTY_SCOPE = "county:"
DEFAULT_COUNTY = ""  # the county of every community not put in one: a single-county deployment


def county_scope(county: str) -> str:
    """The feed scope of a county's boards: ``''`` (every kiosk) for the default county, so
    a single-county deployment's rows stay where a kiosk of any release reads them."""
    return COUNTY_SCOPE + county if county != DEFAULT_COUNTY else ""


@dataclass(frozen=True)
class Feed:
    kind: str
    record: type
    key: Callable[[Any], str]  # the feed key of a record
    scope: Literal["global", "shop", "community", "county"]
    shop_of: Callable[[Any], str] | None = None  # a shop-, community- or county-scoped record's owner (else the publisher names it)
    table: str | None = None  # the kiosk's mirror table; None: acted on, not mirrored
    table_key: str | None = None
    adapt: Callable[[Any, str], dict] = _as_row  # (record, feed key) -> mirror row
    local_key: Callable[[str, str], str | None] = lambda key, shop: key  # (feed key, kiosk's shop) -> mirror key; None: not ours
    from_row: Callable[[dict], Any] | None = None  # server reference row -> record

    def scope_of(self, rec: Any, shop: str | None = None) -> str:
        """The feed row's scope: '' (every kiosk), the shop whose kiosks get it, or the
        community (``shop`` names it, for a record that does not) whose serving kiosks do,
        or the county (``shop`` names it; ``''`` the default county) whose kiosks do."""
        if self.scope == "global":
            return ""
        shop = self.shop_of(rec) if self.shop_of is not None else shop
        if self.scope == "county":
            if shop is None:
                raise ValueError(f"feed kind {self.kind} is scoped to a county, and none was named")
            return county_scope(shop)
        if not shop:
            raise ValueError(f"feed kind {self.kind} is scoped to a {self.scope}, and none was named")
        return community_scope(shop) if self.scope == "community" else shop


def _resident(row: dict) -> ResidentRec:
    # only the last four digits of the phone number leave the server
    return ResidentRec(card=row["card"], name=row["name"], phone_tail=row["phone"][-4:],
                       community=row["community"], status=row["status"])


def _board_row(rec: BoardRec, key: str) -> dict:
    # one row per community-month; its lines kept as JSON text
    row = msgspec.to_builtins(rec)
    return {"key": key, **row, "top": msgspec.json.encode(row["top"], order="sorted").decode()}


def _task_row(rec: TaskRec, key: str) -> dict:
    # one row per task; its claims kept as JSON text
    row = msgspec.to_builtins(rec)
    return {**row, "claims": msgspec.json.encode(row["claims"], order="sorted").decode()}


def _stock_key(key: str, shop: str) -> str | None:
    at, _, sku = key.partition("/")
    return sku if at == shop else None


FEEDS: dict[str, Feed] = {f.kind: f for f in (
    Feed("resident", ResidentRec, lambda r: r.card, "community", shop_of=lambda r: r.community, table="residents",
         table_key="card", from_row=_resident),
    Feed("rule", RuleRec, lambda r: r.code, "global", table="rules", table_key="code", from_row=lambda row: RuleRec(**row)),
    Feed("good", GoodRec, lambda r: r.sku, "global", table="goods", table_key="sku", from_row=lambda row: GoodRec(**row)),
    Feed("shop", ShopRec, lambda r: r.id, "global", table="shops", table_key="id", from_row=lambda row: ShopRec(**row)),
    Feed("community", CommunityRec, lambda r: r.id, "global", table="communities", table_key="id",
         from_row=lambda row: CommunityRec(**row)),
    Feed("operator", OperatorRec, lambda r: r.id, "shop", shop_of=lambda r: r.shop, table="operators", table_key="id",
         from_row=lambda row: OperatorRec(**row)),
    Feed("stock", StockRec, lambda r: f"{r.shop}/{r.sku}", "shop", shop_of=lambda r: r.shop, table="stock",
         table_key="sku", adapt=lambda r, key: {"sku": r.sku, "qty": r.qty}, local_key=_stock_key),
    Feed("balance", BalanceRec, lambda r: r.card, "community", table="balances", table_key="card"),
    # scoped to the community's county (the publisher names it): every kiosk in the default county
    Feed("board", BoardRec, lambda r: f"{r.community}/{r.month}", "county", table="board", table_key="key", adapt=_board_row),
    Feed("checkpoint", CheckpointRec, lambda r: "latest", "global", table="checkpoints", table_key="n"),
    # the same checkpoint as a Merkle tree head in a signed note; checked for consistency first
    Feed("checkpoint_note", CheckpointNoteRec, lambda r: "latest", "global", table="tree_heads", table_key="n"),
    # where the server stands in one kiosk's chain, after a restore: the kiosk resends
    Feed("chain", ChainRec, lambda r: r.kiosk, "shop"),
    # how far the ledger has followed one kiosk's batches: they count as confirmed up to its seq
    Feed("projected", ProjectedRec, lambda r: r.kiosk, "shop"),
    # the communities a shop's kiosks mirror: residents of the others are dropped
    Feed("serves", ServesRec, lambda r: r.shop, "shop", shop_of=lambda r: r.shop),
    # where a resident's letter or request stands: shown to the resident when they return
    Feed("voice_reply", VoiceReplyRec, lambda r: r.code, "community", table="voice_items", table_key="code"),
    # volunteer service tasks of a community, with their claims: claimed and done at a station
    Feed("task", TaskRec, lambda r: r.id, "community", shop_of=lambda r: r.community, table="tasks", table_key="id",
         adapt=_task_row),
    # the event kinds the server applies: the kiosk sends no other (kept in its meta)
    Feed("accepts", AcceptsRec, lambda r: "events", "global"),
    # the signed requests beyond push and pull the server answers (online lookup, history)
    Feed("offers", OffersRec, lambda r: "requests", "global"),
)}
