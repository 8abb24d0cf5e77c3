"""Central staff: accounts, roles and community scope, passwords, bearer tokens, the
permission check every staff use case starts with, and the audit log.

Roles: ``admin`` (everything), ``reconciler`` (review queue, corrections, charging a shop or
writing off, settlement), ``community_manager`` (reads and acts only within its own
communities; accepts and adjusts, never charges a shop or writes off), ``auditor``
(reads everything, changes nothing). The check is made here, on the server, by every
use case — the HTTP layer and the CLI only say who is asking.

Passwords: scrypt, hashed and checked by ``sync.passwords`` (the PINs' format too); a new
one must pass ``password_problem`` (length, not a common password, not the username).
Usernames are case-insensitive: ``Admin`` is ``admin`` (unique on ``lower(username)``).
Tokens: 32 random bytes, shown once; only their SHA-256 is stored, with an expiry;
sign-out revokes.
"""

import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from server.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from server.files import private_folder, write_private_text
from server.services import throttle
from server.services.context import Context
from server.store import catalog
from server.store import staff as store
from sync import codec, passwords

ROLES = ("admin", "reconciler", "community_manager", "auditor")
TOKEN_TTL_MS = 8 * 3_600_000
MIN_PASSWORD = 10
USERNAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$")  # schema.types.OperatorId

#: permission -> roles that hold it. Community managers are further limited to their scope.
PERMISSIONS: dict[str, frozenset[str]] = {
    "staff.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin", "auditor"}),
    # re-derive the ledger from the signed bytes (server.services.audit.run_audit): slow, reads only
    "audit.run": frozenset({"admin", "reconciler", "auditor"}),
    "review.read": frozenset(ROLES),
    "review.resolve": frozenset({"admin", "reconciler", "community_manager"}),
    # charge-shop / write-off move points onto a shop's settlement or the programme's budget
    "review.charge": frozenset({"admin", "reconciler"}),
    "resident.read": frozenset(ROLES),
    "resident.write": frozenset({"admin", "community_manager"}),
    # more than manage.BULK_RESIDENTS residents in one answer, or the whole register
    "resident.export": frozenset({"admin"}),
    "catalog.write": frozenset({"admin"}),
    "kiosk.manage": frozenset({"admin"}),
    "report.read": frozenset(ROLES),
    # the counties and what each holds (server.services.counties): across communities, so
    # central staff only; a community manager sees their own communities, never a county's
    "county.read": frozenset({"admin", "reconciler", "auditor"}),
    "board.publish": frozenset({"admin", "reconciler"}),
    "checkpoint.make": frozenset({"admin", "reconciler"}),
    # residents' letters and requests (server.services.voice): everyone reads, scoped
    "voice.read": frozenset(ROLES),
    "voice.handle": frozenset({"admin", "community_manager"}),
    # volunteer service tasks (server.services.tasks): everyone reads, scoped
    "task.read": frozenset(ROLES),
    "task.manage": frozenset({"admin", "community_manager"}),
}


@dataclass(frozen=True)
class Principal:
    """Who is asking. ``communities`` is None for an unscoped role."""

    username: str
    role: str
    communities: frozenset[str] | None

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    def sees(self, community: str | None) -> bool:
        return self.communities is None or community in self.communities

    def as_dict(self) -> dict:
        comms = None if self.communities is None else sorted(self.communities)
        return {"username": self.username, "role": self.role, "communities": comms}


def require(who: Principal, permission: str, community: str | None = None, *, scoped: bool = False) -> None:
    """Raise ``Forbidden`` unless ``who`` holds ``permission`` (and, when ``scoped`` or a
    ``community`` is named, may act in that community)."""
    if not who.can(permission):
        raise Forbidden(f"{who.role} {who.username} may not {permission}", permission=permission)
    if (scoped or community is not None) and not who.sees(community):
        raise Forbidden(f"{who.username} does not manage community {community}", community=community)


def scope_filter(who: Principal, community: str | None) -> list[str] | None:
    """Communities a listing may cover: the one asked for (if allowed), or the caller's
    scope; None means every community."""
    if community is not None:
        if not who.sees(community):
            raise Forbidden(f"{who.username} does not manage community {community}", community=community)
        return [community]
    return None if who.communities is None else sorted(who.communities)


# ---------------------------------------------------------------- passwords and tokens


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (server/data/common-passwords.txt), lower case."""
    text = files("server").joinpath("data", "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str | None, username: str) -> str | None:
    """Why ``password`` may not be ``username``'s (None when it may): shorter than
    ``MIN_PASSWORD``, one character repeated, on the common-passwords list (ignoring case
    and spaces), or holding the username."""
    pw = password or ""
    if len(pw) < MIN_PASSWORD:
        return f"a password has at least {MIN_PASSWORD} characters"
    folded = pw.lower()
    if len(set(folded)) < 3:
        return "a password needs more than two different characters"
    if folded in common_passwords() or folded.replace(" ", "") in common_passwords():
        return "that password is on the list of common passwords; choose another"
    if username and username.lower() in folded:
        return "a password may not contain the username"
    return None


# One fixed hash to check against when the user does not exist, so a wrong username and a
# wrong password take the same time.
_DUMMY = passwords.hash_password("not a password", b"\0" * 16)


def token_hash(token: str) -> str:
    return codec.digest(token.encode("utf-8", "replace"))


def principal_of(row: dict) -> Principal:
    scoped = row["role"] == "community_manager"
    return Principal(row["username"], row["role"], frozenset(row["communities"]) if scoped else None)


def sign_in(ctx: Context, username: str, password: str, address: str | None = None) -> dict:
    """A bearer token for a right password. Repeated failures lock the (username, client
    ``address``) pair, and many the address, for a while: ``429 rate_limited``
    (server.services.throttle)."""
    username = (username or "").lower()  # Admin is admin, for the lockout too
    throttle.check(ctx, username, address)  # before scrypt: a locked guesser costs nothing
    with ctx.store.read() as db:
        row = store.staff_by_name(db, username)
    ok = passwords.verify(password, row["password_hash"] if row else _DUMMY)
    if row is None or not ok or row["status"] != "active":
        throttle.failed(ctx, username, address)
        raise Unauthorized("unknown username, wrong password, or a disabled account")
    throttle.succeeded(ctx, username, address)
    token = os.urandom(32).hex()
    now = ctx.now()
    expires = now + TOKEN_TTL_MS
    with ctx.store.write() as db:
        store.insert_token(db, token_hash(token), username, now, expires)
        store.append_audit(db, now, username, "sign_in", username, {})
    return {"token": token, "expires_at": expires, "staff": principal_of(row).as_dict()}


def authenticate(ctx: Context, token: str | None) -> Principal:
    """The active staff member a live token belongs to, or ``Unauthorized``."""
    if not token:
        raise Unauthorized()
    with ctx.store.read() as db:
        tok = store.token_by_hash(db, token_hash(token))
        row = store.staff_by_name(db, tok["username"]) if tok else None
    if tok is None or tok["revoked_at"] is not None or tok["expires_at"] <= ctx.now():
        raise Unauthorized("this token is unknown, signed out or expired; sign in again")
    if row is None or row["status"] != "active":
        raise Unauthorized("this account is disabled")
    return principal_of(row)


def sign_out(ctx: Context, token: str | None) -> dict:
    who = authenticate(ctx, token)
    now = ctx.now()
    with ctx.store.write() as db:
        store.revoke_token(db, token_hash(token), now)
        store.append_audit(db, now, who.username, "sign_out", who.username, {})
    return {"signed_out": True}


def sign_out_everywhere(ctx: Context, token: str | None) -> dict:
    """Revoke every live token of the account this token belongs to (every browser and
    API client signed in as it)."""
    who = authenticate(ctx, token)
    now = ctx.now()
    with ctx.store.write() as db:
        revoked = store.revoke_tokens_of(db, who.username, now)
        store.append_audit(db, now, who.username, "sign_out_everywhere", who.username, {"tokens_revoked": revoked})
    return {"signed_out": True, "tokens_revoked": revoked}


def acting_as(ctx: Context, username: str) -> Principal:
    """The principal for a CLI command run ``--staff USER`` on the server machine itself
    (whoever can read the data folder is trusted as that user; the role still applies)."""
    with ctx.store.read() as db:
        row = store.staff_by_name(db, username)
    if row is None:
        raise NotFound("staff", username)
    if row["status"] != "active":
        raise Unauthorized(f"staff {username} is disabled")
    return principal_of(row)


#: The server's own chores (the periodic tick); what it does is not a staff action.
SYSTEM = Principal("system", "admin", None)


def local_principal(os_user: str) -> Principal:
    """Who runs ``jifen-server`` on the server machine without ``--staff``: whoever can read
    the data folder holds everything in it, so an admin, audited as ``local:<os user>``
    (the colon keeps it apart from every staff username)."""
    return Principal(f"local:{os_user[:32] or 'unknown'}", "admin", None)


# ---------------------------------------------------------------- accounts


def add_staff(ctx: Context, who: Principal, username: str, role: str, password: str | None = None,
              communities: list[str] | tuple[str, ...] = ()) -> dict:
    """Create an account; returns the password when one was generated (shown once)."""
    require(who, "staff.manage")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", role=role)
    if not USERNAME.match(username or ""):  # it is signed into central events as their ``staff``
        raise Invalid("a username is 1-32 ASCII letters, digits, _ . - (starting with a letter or digit)", username=(username or "")[:40])
    communities = sorted(set(communities))
    if role == "community_manager" and not communities:
        raise Invalid("a community manager needs at least one --community")
    if role != "community_manager" and communities:
        raise Invalid(f"only a community manager is scoped to communities, not a {role}")
    generated = password is None
    if generated:
        password = os.urandom(12).hex()
    problem = password_problem(password, username)
    if problem:
        raise Invalid(problem, username=username)
    hashed = passwords.hash_password(password, os.urandom(16))  # slow on purpose: before the write lock
    now = ctx.now()
    with ctx.store.write() as db:
        taken = store.staff_by_name(db, username)  # case-insensitive: Admin beside admin is refused
        if taken is not None:
            raise Conflict(f"staff {taken['username']} already exists (usernames ignore letter case)", username=username)
        for c in communities:
            if catalog.row_by_key(db, "communities", c) is None:
                raise NotFound("community", c)
        store.insert_staff(db, username, role, hashed, now, communities)
        store.append_audit(db, now, who.username, "staff_add", username, {"role": role, "communities": communities})
    out = {"username": username, "role": role, "communities": communities, "status": "active"}
    if generated:
        out["password"] = password
    return out


def sign_in_lockouts(ctx: Context, who: Principal, include_expired: bool = False) -> list[dict]:
    """The sign-in lockouts in force (``include_expired``: of the last day), for admins."""
    require(who, "staff.manage")
    return throttle.lockouts(ctx, include_expired)


def list_staff(ctx: Context, who: Principal) -> list[dict]:
    if not (who.can("staff.manage") or who.can("audit.read")):
        raise Forbidden(f"{who.role} {who.username} may not list staff")
    with ctx.store.read() as db:
        return store.list_staff(db)


def disable_staff(ctx: Context, who: Principal, username: str) -> dict:
    require(who, "staff.manage")
    now = ctx.now()
    with ctx.store.write() as db:
        row = store.staff_by_name(db, username)
        if row is None:
            raise NotFound("staff", username)
        username = row["username"]  # as stored, whatever the case it was typed in
        if username == who.username:
            raise Invalid("you cannot disable your own account")
        store.set_staff_status(db, username, "disabled")
        revoked = store.revoke_tokens_of(db, username, now)
        store.append_audit(db, now, who.username, "staff_disable", username, {"tokens_revoked": revoked})
    return {"username": username, "status": "disabled", "was": row["status"], "tokens_revoked": revoked}


def set_password(ctx: Context, who: Principal, username: str, password: str, current: str | None = None) -> dict:
    """Change a password: your own (giving the current one) or, as admin, anyone's. Every
    other token of that account is revoked."""
    if username.lower() != who.username.lower():
        require(who, "staff.manage")
    with ctx.store.read() as db:
        row = store.staff_by_name(db, username)
    if row is None:
        raise NotFound("staff", username)
    username = row["username"]  # as stored, whatever the case it was typed in
    problem = password_problem(password, username)
    if problem:
        raise Invalid(problem, username=username)
    if username == who.username and who is not SYSTEM and not passwords.verify(current or "", row["password_hash"]):
        raise Forbidden("the current password is wrong")
    hashed = passwords.hash_password(password, os.urandom(16))
    now = ctx.now()
    with ctx.store.write() as db:
        store.set_password_hash(db, username, hashed)
        revoked = store.revoke_tokens_of(db, username, now)
        store.append_audit(db, now, who.username, "staff_password", username, {"tokens_revoked": revoked})
    return {"username": username, "tokens_revoked": revoked}


def keep_admin_password(ctx: Context, password: str, path: Path | None = None) -> Path:
    """Write ``admin``'s password to ``path`` (default ``settings.admin_password_path``),
    readable by the owner only (0600): whoever can read the data folder holds everything in
    it anyway, and a password only ever printed would be lost with the terminal or the log
    it went to."""
    where = Path(path or ctx.settings.admin_password_path)
    private_folder(where.parent)
    return write_private_text(where, password + "\n")


def ensure_first_admin(ctx: Context, stream=None, path: Path | None = None) -> dict | None:
    """On an empty staff table, create ``admin``: password from ``settings.admin_password``
    ($JIFEN_ADMIN_PASSWORD), or a random one kept in ``path`` (default
    ``settings.admin_password_path``, 0600) whose path — never the password — is printed to
    ``stream`` (stderr ends up in logs). None when staff already exist."""
    with ctx.store.read() as db:
        if store.staff_count(db):
            return None
    password = ctx.settings.admin_password
    try:
        out = add_staff(ctx, SYSTEM, "admin", "admin", password)
    except Conflict:
        return None  # another process made it first
    if "password" in out:
        where = keep_admin_password(ctx, out["password"], path)
        print(f"jifen-server: created staff account 'admin'; its password is in {where} (readable by this user only; "
              f"set JIFEN_ADMIN_PASSWORD to choose it; `jifen-server staff password admin` sets a new one)",
              file=stream or sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------- audit log


def record(db, ctx: Context, who: Principal, action: str, subject: str | None, detail: dict) -> None:
    """Append one audit row inside the caller's write transaction."""
    store.append_audit(db, ctx.now(), who.username, action, subject, detail)


def audit_log(ctx: Context, who: Principal, staff: str | None = None, action: str | None = None,
              since: int = 0, limit: int = 1000) -> list[dict]:
    require(who, "audit.read")
    with ctx.store.read() as db:
        return store.audit_rows(db, staff, action, since, min(max(limit, 1), 10_000))


def audit_page(ctx: Context, who: Principal, staff: str | None = None, action: str | None = None,
               before: int | None = None, size: int = 200) -> dict:
    """A page of the audit log, newest first, below id ``before``; ``total``: the rows
    matching the filters in all (the console pages through them)."""
    require(who, "audit.read")
    with ctx.store.read() as db:
        rows = store.audit_newest(db, staff, action, before, min(max(size, 1), 1000))
        return {"rows": rows, "total": store.audit_count(db, staff, action)}
