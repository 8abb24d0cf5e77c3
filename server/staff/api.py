"""The staff API under /api: JSON in and out, bearer tokens, listed in the OpenAPI schema
(/schema). Errors leave in the one error shape with the codes of ``server.errors``
(``unauthorized``, ``forbidden``, ``not_found``, ``conflict``, ``invalid_input``,
``rate_limited``; ``malformed_request`` for a body that does not decode).

Sign in with ``POST /api/session``; send ``Authorization: Bearer <token>`` afterwards.
Every handler is blocking (database, scrypt), so each runs in a worker thread.
"""

from typing import Annotated

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import SecurityScheme
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from schema.staff import (CommunityIn, Decision, EnrollCodeIn, GoodIn, NewPassword, NewStaff, OperatorIn, PinIn, ResidentIn, Resolve,
                          RuleIn, ServesIn, ShopIn, SignIn, VoiceAssign, VoiceReply)
from server.errors import Invalid
from server.reports.render import FORMATS, content_disposition, render_bytes, stream_bytes
from server.services import checkpoint, enroll, manage, register, reports, review, rotate, staff, voice
from server.services.context import Context
from server.services.staff import Principal


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def provide_who(request: Request) -> Principal:
    return staff.authenticate(request.app.state.ctx, bearer(request))


async def provide_upload(request: Request) -> bytes:
    """An uploaded file's bytes: the ``file`` field of a multipart form, else the raw body."""
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        form = await request.form()
        part = form.get("file")
        if part is None:
            raise Invalid("the form has no 'file' field")
        return await part.read() if hasattr(part, "read") else str(part).encode("utf-8")
    return await request.body()


DEPENDENCIES = {"who": Provide(provide_who, sync_to_thread=True)}

#: How the OpenAPI schema documents auth: every /api route but sign-in wants the token.
BEARER = "BearerToken"
SECURITY_SCHEMES = {BEARER: SecurityScheme(
    type="http", scheme="bearer", bearer_format="opaque (64 hex characters)",
    description="The token from POST /api/session, sent as `Authorization: Bearer <token>`; 8 hours, revoked by DELETE /api/session.")}
SECURITY = [{BEARER: []}]
#: The largest id or row number a query parameter may name (SQLite's integers are 64-bit).
MAX_ID = 2**62
Who = NamedDependency[Principal]
Ctx = NamedDependency[Context]


class SessionApi(Controller):
    """Signing in and out."""

    path = "/api/session"
    dependencies = DEPENDENCIES
    tags = ["staff: session"]

    @post("/", sync_to_thread=True, status_code=200)
    def sign_in(self, ctx: Ctx, data: JSONBody[SignIn], request: Request) -> dict:
        """Exchange a username and password for a bearer token (8 hours). After 5 wrong
        passwords in 15 minutes the username is locked for 15 minutes (30 for one client
        address): ``429 rate_limited`` with ``detail.retry_after_ms``."""
        return staff.sign_in(ctx, data.username, data.password, request.client.host if request.client else None)

    @delete("/", sync_to_thread=True, status_code=200, security=SECURITY)
    def sign_out(self, ctx: Ctx, request: Request) -> dict:
        """Revoke the bearer token this request carries."""
        return staff.sign_out(ctx, bearer(request))

    @get("/", sync_to_thread=True, security=SECURITY)
    def me(self, who: Who) -> dict:
        return who.as_dict()


class StaffApi(Controller):
    """Accounts (admin) and the audit log (admin, auditor)."""

    path = "/api"
    dependencies = DEPENDENCIES
    tags = ["staff: accounts and audit log"]
    security = SECURITY

    @get("/staff", sync_to_thread=True)
    def list_staff(self, ctx: Ctx, who: Who) -> list[dict]:
        return staff.list_staff(ctx, who)

    @post("/staff", sync_to_thread=True, status_code=201)
    def add_staff(self, ctx: Ctx, who: Who, data: JSONBody[NewStaff]) -> dict:
        return staff.add_staff(ctx, who, data.username, data.role, data.password, data.communities)

    @post("/staff/{username:str}/disable", sync_to_thread=True, status_code=200)
    def disable_staff(self, ctx: Ctx, who: Who, username: FromPath[str]) -> dict:
        return staff.disable_staff(ctx, who, username)

    @put("/staff/{username:str}/password", sync_to_thread=True)
    def set_password(self, ctx: Ctx, who: Who, username: FromPath[str], data: JSONBody[NewPassword]) -> dict:
        """Your own password (with ``current``), or anyone's as admin; signs that account out everywhere."""
        return staff.set_password(ctx, who, username, data.password, data.current)

    @get("/lockouts", sync_to_thread=True)
    def lockouts(self, ctx: Ctx, who: Who, include_expired: Annotated[bool, QueryParameter(name="all")] = False) -> list[dict]:
        """Sign-in lockouts in force (``all``: of the last day): username (null for an address), address, until, level."""
        return staff.sign_in_lockouts(ctx, who, include_expired)

    @get("/audit-log", sync_to_thread=True)
    def audit_log(self, ctx: Ctx, who: Who, staff_name: Annotated[str | None, QueryParameter(name="staff")] = None,
                  action: FromQuery[str | None] = None, since: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
                  limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000) -> list[dict]:
        return staff.audit_log(ctx, who, staff_name, action, since, limit)


class ReviewApi(Controller):
    """The review queue and its resolutions."""

    path = "/api/reviews"
    dependencies = DEPENDENCIES
    tags = ["staff: review queue"]
    security = SECURITY

    @get("/", sync_to_thread=True)
    def list_items(self, ctx: Ctx, who: Who, open_only: Annotated[bool, QueryParameter(name="open")] = False,
                   community: FromQuery[str | None] = None, evidence: FromQuery[bool] = False) -> list[dict]:
        return review.list_items(ctx, who, open_only, community, evidence)

    @get("/{item:int}", sync_to_thread=True)
    def show(self, ctx: Ctx, who: Who, item: FromPath[int]) -> dict:
        return review.show_item(ctx, who, item)

    @get("/{item:int}/evidence", sync_to_thread=True)
    def describe(self, ctx: Ctx, who: Who, item: FromPath[int], lang: FromQuery[str] = "zh") -> dict:
        """The item (as ``GET /api/reviews/{id}``) and ``lines``: its evidence written for a
        person in ``lang`` (zh default, or en)."""
        return review.describe_item(ctx, who, item, "en" if lang == "en" else "zh")

    @post("/{item:int}/resolve", sync_to_thread=True, status_code=200)
    def resolve(self, ctx: Ctx, who: Who, item: FromPath[int], data: JSONBody[Resolve]) -> dict:
        return review.resolve(ctx, who, item, data.action, data.note, data.points)

    @post("/{item:int}/approve", sync_to_thread=True, status_code=200)
    def approve(self, ctx: Ctx, who: Who, item: FromPath[int], data: JSONBody[Decision]) -> dict:
        """A second staff member approves the resolution proposed for this item (it moved
        more points than the item is about): it posts now."""
        return review.decide(ctx, who, item, True, data.note)

    @post("/{item:int}/decline", sync_to_thread=True, status_code=200)
    def decline(self, ctx: Ctx, who: Who, item: FromPath[int], data: JSONBody[Decision]) -> dict:
        """Decline (or, as its proposer, withdraw) the resolution proposed for this item."""
        return review.decide(ctx, who, item, False, data.note)


class VoiceApi(Controller):
    """Residents' letters (书记信箱) and requests (村民说事): the queue and its handling."""

    path = "/api/voice"
    dependencies = DEPENDENCIES
    tags = ["staff: letters and requests"]
    security = SECURITY

    @get("/", sync_to_thread=True)
    def list_items(self, ctx: Ctx, who: Who, community: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
                   channel: FromQuery[str | None] = None, month: FromQuery[str | None] = None,
                   limit: Annotated[int, QueryParameter(ge=1, le=voice.LIST_LIMIT)] = 200) -> list[dict]:
        return voice.list_items(ctx, who, community, status, channel, month, limit)

    @get("/{code:str}", sync_to_thread=True)
    def show(self, ctx: Ctx, who: Who, code: FromPath[str]) -> dict:
        """One item: what the resident wrote, its resident's name and every handling step."""
        return voice.item(ctx, who, code)

    @post("/{code:str}/assign", sync_to_thread=True, status_code=200)
    def assign(self, ctx: Ctx, who: Who, code: FromPath[str], data: JSONBody[VoiceAssign]) -> dict:
        return voice.assign(ctx, who, code, data.staff)

    @post("/{code:str}/reply", sync_to_thread=True, status_code=200)
    def reply(self, ctx: Ctx, who: Who, code: FromPath[str], data: JSONBody[VoiceReply]) -> dict:
        return voice.reply(ctx, who, code, data.text)

    @post("/{code:str}/done", sync_to_thread=True, status_code=200)
    def done(self, ctx: Ctx, who: Who, code: FromPath[str]) -> dict:
        """Mark a replied item done: from now on the resident may rate it."""
        return voice.done(ctx, who, code)


class ProgrammeApi(Controller):
    """Residents, rules, goods, shops, communities, operators, kiosks."""

    path = "/api"
    dependencies = DEPENDENCIES
    tags = ["staff: running the programme"]
    security = SECURITY

    @get("/residents", sync_to_thread=True)
    def residents(self, ctx: Ctx, who: Who, community: FromQuery[str | None] = None, after: FromQuery[str] = "",
                  limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = manage.BULK_RESIDENTS,
                  reason: FromQuery[str | None] = None) -> list[dict]:
        """Residents by card (``after`` the last one seen); phones masked unless ``reason`` says
        why (recorded); more than 100 in one answer needs permission ``resident.export``. Logged."""
        return manage.list_residents(ctx, who, community, limit, after, reason)

    @get("/residents/{card:str}", sync_to_thread=True)
    def resident(self, ctx: Ctx, who: Who, card: FromPath[str], reason: FromQuery[str | None] = None) -> dict:
        """One resident; the phone masked unless ``reason`` says why (recorded). Logged."""
        return manage.get_resident(ctx, who, card, reason)

    @put("/residents/{card:str}", sync_to_thread=True)
    def put_resident(self, ctx: Ctx, who: Who, card: FromPath[str], data: JSONBody[ResidentIn]) -> dict:
        return manage.put_resident(ctx, who, card, data.name, data.phone, data.community, data.status)

    @post("/residents/import", sync_to_thread=True, status_code=200, dependencies={"upload": Provide(provide_upload)})
    def import_residents(self, ctx: Ctx, who: Who, upload: NamedDependency[bytes], community: FromQuery[str | None] = None,
                         lang: FromQuery[str] = "zh") -> dict:
        """One step: a register CSV (raw body, or a multipart form's ``file``) in UTF-8 (BOM allowed) or
        GBK/GB18030, header ``卡号,姓名,手机[,社区][,状态]`` or ``card,name,phone[,community][,status]``;
        refused rows are listed and skipped, the rest applied together."""
        return register.import_residents(ctx, who, upload, community, "en" if lang == "en" else "zh")

    @post("/residents/import/preview", sync_to_thread=True, status_code=200, dependencies={"upload": Provide(provide_upload)})
    def preview_import(self, ctx: Ctx, who: Who, upload: NamedDependency[bytes], community: FromQuery[str | None] = None,
                       lang: FromQuery[str] = "zh") -> dict:
        """What importing this register would add, change and refuse (with line numbers and
        reasons in ``lang``), changing nothing; its ``token`` binds the commit to this preview."""
        return register.preview(ctx, who, upload, community, "en" if lang == "en" else "zh")

    @post("/residents/import/commit", sync_to_thread=True, status_code=200, dependencies={"upload": Provide(provide_upload)})
    def commit_import(self, ctx: Ctx, who: Who, upload: NamedDependency[bytes], token: FromQuery[str],
                      community: FromQuery[str | None] = None, lang: FromQuery[str] = "zh") -> dict:
        """Apply exactly what the preview with ``token`` showed for the same bytes, all or
        nothing: ``409 conflict`` if anything changed since."""
        return register.commit(ctx, who, upload, token, community, "en" if lang == "en" else "zh")

    @put("/rules/{code:str}", sync_to_thread=True)
    def put_rule(self, ctx: Ctx, who: Who, code: FromPath[str], data: JSONBody[RuleIn]) -> dict:
        fields = {f: getattr(data, f) for f in ("name", "kind", "points", "cap_day", "cap_month", "status") if getattr(data, f) is not None}
        if data.clear_caps:
            fields |= {"cap_day": data.cap_day, "cap_month": data.cap_month}
        return manage.change_rule(ctx, who, code, fields, data.effective_at)

    @get("/rules/{code:str}/changes", sync_to_thread=True)
    def rule_changes(self, ctx: Ctx, who: Who, code: FromPath[str]) -> list[dict]:
        return manage.rule_history(ctx, who, code)

    @put("/goods/{sku:str}", sync_to_thread=True)
    def put_good(self, ctx: Ctx, who: Who, sku: FromPath[str], data: JSONBody[GoodIn]) -> dict:
        return manage.put_good(ctx, who, sku, data.name, data.unit, data.price, data.status)

    @post("/goods/{sku:str}/retire", sync_to_thread=True, status_code=200)
    def retire_good(self, ctx: Ctx, who: Who, sku: FromPath[str]) -> dict:
        return manage.retire_good(ctx, who, sku)

    @put("/shops/{shop:str}", sync_to_thread=True)
    def put_shop(self, ctx: Ctx, who: Who, shop: FromPath[str], data: JSONBody[ShopIn]) -> dict:
        return manage.put_shop(ctx, who, shop, data.name, data.community, data.kind)

    @put("/shops/{shop:str}/serves", sync_to_thread=True)
    def put_shop_serves(self, ctx: Ctx, who: Who, shop: FromPath[str], data: JSONBody[ServesIn]) -> dict:
        """The communities whose residents the shop's kiosks mirror (empty: its own)."""
        return manage.set_shop_serves(ctx, who, shop, data.communities)

    @put("/communities/{community:str}", sync_to_thread=True)
    def put_community(self, ctx: Ctx, who: Who, community: FromPath[str], data: JSONBody[CommunityIn]) -> dict:
        return manage.put_community(ctx, who, community, data.name, data.street)

    @put("/operators/{operator:str}", sync_to_thread=True)
    def put_operator(self, ctx: Ctx, who: Who, operator: FromPath[str], data: JSONBody[OperatorIn]) -> dict:
        return manage.put_operator(ctx, who, operator, data.shop, data.name, data.role, data.pin, data.status)

    @post("/operators/{operator:str}/pin", sync_to_thread=True, status_code=200)
    def reset_pin(self, ctx: Ctx, who: Who, operator: FromPath[str], data: JSONBody[PinIn]) -> dict:
        """A new PIN for the operator (theirs to type at their shop's kiosks from its next pull on)."""
        return manage.reset_operator_pin(ctx, who, operator, data.pin)

    @post("/operators/{operator:str}/retire", sync_to_thread=True, status_code=200)
    def retire_operator(self, ctx: Ctx, who: Who, operator: FromPath[str]) -> dict:
        return manage.retire_operator(ctx, who, operator)

    @post("/enroll-codes", sync_to_thread=True, status_code=201)
    def enroll_code(self, ctx: Ctx, who: Who, data: JSONBody[EnrollCodeIn]) -> dict:
        return enroll.enroll_code(ctx, who, data.shop)

    @post("/kiosks/{kiosk:str}/expire-pins", sync_to_thread=True, status_code=200)
    def expire_pins(self, ctx: Ctx, who: Who, kiosk: FromPath[str]) -> dict:
        """The kiosk is lost: its shop's operators' PINs stop working until staff reset each."""
        return manage.expire_kiosk_pins(ctx, who, kiosk)

    @post("/kiosks/{kiosk:str}/revoke", sync_to_thread=True, status_code=200)
    def revoke(self, ctx: Ctx, who: Who, kiosk: FromPath[str]) -> dict:
        return manage.revoke_kiosk(ctx, who, kiosk)

    @post("/kiosks/{kiosk:str}/rotate", sync_to_thread=True, status_code=200)
    def force_rotate(self, ctx: Ctx, who: Who, kiosk: FromPath[str]) -> dict:
        """Retire the kiosk's key now and issue a one-time re-enrolment code for a new one."""
        return rotate.force_rotate(ctx, who, kiosk)

    @get("/kiosks/{kiosk:str}/keys", sync_to_thread=True)
    def keys(self, ctx: Ctx, who: Who, kiosk: FromPath[str]) -> list[dict]:
        return rotate.key_history(ctx, who, kiosk)


class ReportApi(Controller):
    """Reports (JSON, CSV, printable HTML), the public board, checkpoints."""

    path = "/api"
    dependencies = DEPENDENCIES
    tags = ["staff: reports, board, checkpoints"]
    security = SECURITY

    @get("/reports/{kind:str}", sync_to_thread=True)
    def report(self, ctx: Ctx, who: Who, kind: FromPath[str], month: FromQuery[str], community: FromQuery[str | None] = None,
               fmt: Annotated[str, QueryParameter(name="format")] = "json", lang: FromQuery[str] = "zh") -> Response:
        """``kind``: board, settlement, issued, trend, coverage, kiosks, shifts, voice; ``format``: json, csv, xlsx, html, table;
        ``lang``: zh (default) or en, for headers and readable values (JSON keeps its keys and adds ``labels``)."""
        if fmt not in FORMATS:
            raise Invalid(f"format must be one of {', '.join(FORMATS)}", format=fmt[:20])
        out = reports.report(ctx, who, kind, month, community, lang)
        headers = {"Content-Disposition": content_disposition(out, fmt)} if fmt in ("csv", "xlsx") else {}
        if fmt == "csv":  # rows as they are written: the city's board starts at once
            return Stream(stream_bytes(out, fmt), media_type=FORMATS[fmt], headers=headers)
        return Response(content=render_bytes(out, fmt), media_type=FORMATS[fmt], headers=headers)

    @get("/shifts", sync_to_thread=True)
    def shifts(self, ctx: Ctx, who: Who, month: FromQuery[str], community: FromQuery[str | None] = None) -> dict:
        """The shift reports kiosks sent in ``month``: counted against expected stock per SKU."""
        return reports.shifts(ctx, who, month, community)

    @post("/boards/{month:str}/publish", sync_to_thread=True, status_code=200)
    def publish_board(self, ctx: Ctx, who: Who, month: FromPath[str]) -> dict:
        return reports.publish_board(ctx, who, month)

    @get("/checkpoints", sync_to_thread=True)
    def checkpoints(self, ctx: Ctx, who: Who) -> list[dict]:
        return checkpoint.list_checkpoints(ctx, who)

    @post("/checkpoints", sync_to_thread=True, status_code=200)
    def make_checkpoint(self, ctx: Ctx, who: Who) -> dict:
        return checkpoint.make_checkpoint(ctx, who)


HANDLERS = [SessionApi, StaffApi, ReviewApi, VoiceApi, ProgrammeApi, ReportApi]
