"""Fraud rules: pure functions over plain values. Each returns evidence (a dict) when it fires,
None when it does not. Services gather the values and record flags (tracking.fraud)."""

import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

COUPON_SITE_HOSTS = (
    "cuponation",
    "cupom",
    "cupon",
    "coupon",
    "promocode",
    "retailmenot",
    "honey",
    "descuento",
    "desconto",
    "pelando",
    "meliuz",
    "picodi",
    "radarcupom",
)


def rule_click_flood(
    *, clicks_by_ip: dict[str, int], invalid: int, total: int, per_ip_limit: int = 50, invalid_ratio: float = 0.5
) -> dict[str, Any] | None:
    """Too many clicks from one address, or mostly screened (bot/duplicate) clicks."""
    heavy = {ip: n for ip, n in clicks_by_ip.items() if n > per_ip_limit}
    ratio = invalid / total if total else 0.0
    if heavy or (total >= 20 and ratio >= invalid_ratio):
        return {
            "addresses_over_limit": len(heavy),
            "max_per_address": max(heavy.values(), default=0),
            "invalid": invalid,
            "total": total,
            "invalid_ratio": round(ratio, 3),
        }
    return None


def rule_self_referral(*, customer_hashes: Iterable[str], influencer_hashes: Iterable[str]) -> dict[str, Any] | None:
    """The customer's email or document hash equals the influencer's."""
    shared = set(customer_hashes) & set(influencer_hashes)
    if shared:
        return {"matched": sorted("email" if h.startswith("e:") else "document" for h in shared)}
    return None


def rule_coupon_site(*, referrer_host: str) -> dict[str, Any] | None:
    host = (referrer_host or "").lower()
    if host and any(word in host for word in COUPON_SITE_HOSTS):
        return {"referrer": host}
    return None


COUPON_LEAK_WINDOW = timedelta(hours=24)


def rule_coupon_leak(
    *, new_customers_without_click: int, window: timedelta = COUPON_LEAK_WINDOW, limit: int = 10
) -> dict[str, Any] | None:
    """A code used by many new customers with no click in a short time: how many of the code's
    orders placed within `window` up to this one (included) were a new customer's without a
    click (tracking.fraud counts them)."""
    if new_customers_without_click >= limit:
        return {
            "new_customers_without_click": new_customers_without_click,
            "window_hours": window.total_seconds() / 3600,
        }
    return None


def rule_fast_conversion(
    *, clicked_at: datetime | None, placed_at: datetime, minimum: timedelta = timedelta(seconds=30)
) -> dict[str, Any] | None:
    """An order placed too soon after its click for a person to have shopped."""
    if clicked_at is None:
        return None
    seconds = (placed_at - clicked_at).total_seconds()
    if 0 <= seconds < minimum.total_seconds():
        return {"seconds": round(seconds, 1), "minimum_seconds": minimum.total_seconds()}
    return None


def zscore(value: float, population: Sequence[float]) -> float | None:
    if len(population) < 3:
        return None
    spread = statistics.pstdev(population)
    if spread == 0:
        return None
    return (value - statistics.fmean(population)) / spread


def rule_conversion_outlier(
    *, rate: float, history: Sequence[float], peers: Sequence[float], threshold: float = 3.0
) -> dict[str, Any] | None:
    """Conversion rate far above the influencer's own history and their peers' (z-score)."""
    z_self, z_peers = zscore(rate, history), zscore(rate, peers)
    if z_peers is not None and z_peers >= threshold and (z_self is None or z_self >= threshold):
        return {
            "rate": round(rate, 4),
            "z_history": None if z_self is None else round(z_self, 2),
            "z_peers": round(z_peers, 2),
        }
    return None


def rule_shared_payout(*, account_hash: str, other_influencers: Iterable[int]) -> dict[str, Any] | None:
    others = sorted(set(other_influencers))
    if account_hash and others:
        return {"other_influencers": others}
    return None
