"""Per-campaign attribution policy applied to touchpoints: pure apart from reading policies.
`orders.attribution._choose` delegates here.

- Coupon vs link: the policy of the coupon's campaign decides (default: coupon wins).
- Among link touchpoints (click, utm, visitor, fingerprint): first or last click by time, per
  the policy of the campaign of the latest one (default: last).
- A cross-device binding ("other") counts only when there is neither a coupon nor a link.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from tracking.selectors import Policy

LINK_KINDS = frozenset({"click", "utm", "visitor", "fingerprint"})
_EPOCH = datetime.min.replace(tzinfo=UTC)


def _when(tp: Any) -> datetime:
    return tp.occurred_at or _EPOCH


def choose_by_policy(touchpoints: Sequence[Any], *, policy_for: Callable[[int | None], Policy]) -> tuple[Any, str]:
    """(winner or None, rule). `policy_for(campaign_id)` returns that campaign's policy."""
    if not touchpoints:
        return None, "no touchpoint"
    coupons = [tp for tp in touchpoints if tp.kind == "coupon"]
    links = sorted((tp for tp in touchpoints if tp.kind in LINK_KINDS), key=_when)
    others = sorted((tp for tp in touchpoints if tp.kind not in LINK_KINDS and tp.kind != "coupon"), key=_when)
    link_winner, link_rule = None, ""
    if links:
        link_policy = policy_for(links[-1].campaign_id)
        if link_policy.click_model == "first":
            link_winner, link_rule = links[0], "first click"
        else:
            link_winner, link_rule = links[-1], "last click"
        link_rule = f"{link_rule} ({link_winner.kind})"
    if coupons:
        coupon = coupons[0]
        if link_winner is not None:
            if policy_for(coupon.campaign_id).precedence == "link":
                return link_winner, f"link wins over coupon: {link_rule}"
            return coupon, "coupon wins over link"
        return coupon, "coupon of the brand"
    if link_winner is not None:
        return link_winner, link_rule
    winner = others[-1]
    return winner, f"{winner.detail.get('via', winner.kind) if isinstance(winner.detail, dict) else winner.kind}"


def attribution_choose(touchpoints: Sequence[Any]) -> tuple[Any, str]:
    """`choose_by_policy` with the campaigns' stored policies (one query)."""
    from campaigns.models import Campaign
    from tracking.selectors import attribution_policy_for

    ids = {tp.campaign_id for tp in touchpoints if tp.campaign_id}
    policies = {
        c.pk: attribution_policy_for(c)
        for c in Campaign.objects.filter(pk__in=ids).select_related("attribution_policy")
    }
    return choose_by_policy(touchpoints, policy_for=lambda cid: policies.get(cid or 0, Policy()))
