"""Offline risk bounds a kiosk applies before handing out goods: the server-signed lease
and the offline floor limit. Pure decisions; the kiosk supplies its clock readings."""

from dataclasses import dataclass

from schema.wire import Policy

DEFAULT_POLICY = Policy(lease_seconds=3 * 86_400, balance_max_age_seconds=6 * 3_600, offline_daily_cap=200)


@dataclass(frozen=True)
class LeaseState:
    """A lease as the kiosk holds it: the signed seconds and the local time it arrived.

    ``high_water`` is the latest local clock reading the kiosk has ever seen, so winding
    the clock back cannot stretch a lease.
    """

    seconds: int
    received_local: int  # ms
    high_water: int  # ms


def lease_remaining(lease: LeaseState | None, now: int) -> int:
    """Milliseconds the lease still runs (<= 0: expired; no lease: 0)."""
    if lease is None:
        return 0
    effective_now = max(now, lease.high_water)
    return lease.received_local + lease.seconds * 1000 - effective_now


def is_offline_mode(reachable: bool, last_pull_local: int | None, now: int, policy: Policy) -> bool:
    """Offline mode: the server did not answer last time, or our balances are too old."""
    if not reachable or last_pull_local is None:
        return True
    return now - last_pull_local > policy.balance_max_age_seconds * 1000


@dataclass(frozen=True)
class RedeemDecision:
    ok: bool
    reason: str | None = None  # a translation key when refused
    detail: dict | None = None


def check_redeem(
    *,
    total: int,
    available: int,
    lease: LeaseState | None,
    now: int,
    offline: bool,
    redeemed_today: int,
    policy: Policy,
    revoked: bool = False,
    clock_wrong: bool = False,
) -> RedeemDecision:
    """May the kiosk hand out goods worth ``total`` points to this resident now?

    ``redeemed_today`` is what this resident already redeemed at this kiosk today (local
    day); in offline mode the total per day is capped, bounding what one resident can
    double-spend across shops that cannot see each other.
    """
    if revoked:
        return RedeemDecision(False, "kiosk_revoked")
    if clock_wrong:
        # time stands still at the best known time (sync.clock), so no lease would ever run out
        return RedeemDecision(False, "clock_wrong")
    if lease_remaining(lease, now) <= 0:
        return RedeemDecision(False, "lease_expired")
    if total > available:
        return RedeemDecision(False, "insufficient_balance", {"available": available, "total": total})
    if offline and redeemed_today + total > policy.offline_daily_cap:
        return RedeemDecision(
            False,
            "offline_cap",
            {"cap": policy.offline_daily_cap, "used": redeemed_today, "total": total},
        )
    return RedeemDecision(True)
