"""Who gets the order: the attribution decision, owned by tracking.

`attribution_decide` collects touchpoints (the coupon typed at checkout; tracked clicks, UTMs,
visitor and fingerprint matches and cross-device bindings from
`tracking.touchpoints.touchpoints_for_order`) and picks one by the campaigns' policies. Orders
calls it with its order (read through `tracking.touchpoints.OrderFacts`) and records the decision
(source, code, rule, touchpoints), so admin and the influencer see why.

Precedence lives in one place, `choose_by_policy`, per campaign policy:

- Coupon vs link: the policy of the coupon's campaign decides (default: coupon wins).
- Among link touchpoints (click, utm, visitor, fingerprint): first or last click by time, per
  the policy of the campaign of the latest one (default: last).
- A cross-device binding ("other") counts only when there is neither a coupon nor a link.

A manual decision (`tracking.models.ManualAttribution`, e.g. an accepted missing-order claim)
comes before all of them: a person looked at the order and decided, with a reason.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from brands.models import Brand
from campaigns.models import Campaign
from codes.selectors import code_get_by_text
from core import batching
from tracking.selectors import Policy, attribution_policy_for, manual_attribution_exists, manual_attribution_get
from tracking.touchpoints import OrderFacts, Touchpoint, touchpoints_for_order

logger = logging.getLogger(__name__)

LINK_KINDS = frozenset({"click", "utm", "visitor", "fingerprint"})
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AttributionDecision:
    source: str  # Order.AttributionSource value: none, coupon, click, utm, other, manual
    influencer_id: int | None
    campaign_id: int | None
    code_id: int | None
    rule: str
    touchpoints: list[Touchpoint] = field(default_factory=list)
    variant_id: int | None = None
    link_id: int | None = None  # the tracked link of the winning click, if a click won

    @property
    def attributed(self) -> bool:
        return self.influencer_id is not None

    def touchpoints_json(self) -> list[dict[str, Any]]:
        return [tp.as_json() for tp in self.touchpoints]


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
    ids = frozenset(tp.campaign_id for tp in touchpoints if tp.campaign_id)
    policies = batching.memo(
        ("tracking.attribution_policies", ids),
        lambda: {
            c.pk: attribution_policy_for(c)
            for c in Campaign.objects.filter(pk__in=ids).select_related("attribution_policy")
        },
    )
    return choose_by_policy(touchpoints, policy_for=lambda cid: policies.get(cid or 0, Policy()))


def coupon_touchpoint(*, brand: Brand, order: OrderFacts) -> Touchpoint | None:
    """The brand's code the shopper typed at checkout, when it is one."""
    if not order.coupon:
        return None
    code = code_get_by_text(brand=brand, text=order.coupon)
    if code is None:
        return None
    return Touchpoint(
        kind="coupon",
        influencer_id=code.influencer_id,
        campaign_id=code.campaign_id,
        code_id=code.pk,
        occurred_at=order.created_in_vtex_at,
        detail={
            "coupon": order.coupon,
            "code": code.text,
            "promotion_id": order.promotion_id,
            "variant_id": code.variant_id,
        },
    )


def _tracked_touchpoints(*, brand: Brand, order: OrderFacts) -> list[Touchpoint]:
    try:
        return list(touchpoints_for_order(brand=brand, order=order) or [])
    except Exception:
        # A tracking failure must not lose the order: log it and decide on what we have.
        logger.exception("tracking touchpoints failed for order %s", order.vtex_order_id)
        return []


def _source_for(kind: str) -> str:
    return kind if kind in {"coupon", "click", "utm"} else "other"


def _manual_decision(*, brand: Brand, order: OrderFacts) -> Any:
    """The manual decision on the order, if any. Whether the brand has any is read once per
    batch (core.batching): a brand without accepted claims costs no query per order."""
    if not batching.memo(("manual_attributions", brand.pk), lambda: manual_attribution_exists(brand_id=brand.pk)):
        return None
    return manual_attribution_get(brand_id=brand.pk, order_ref=order.vtex_order_id)


def attribution_decide(*, brand: Brand, order: OrderFacts) -> AttributionDecision:
    """Decide who the order is attributed to. Reads only; the caller records the decision."""
    touchpoints: list[Touchpoint] = []
    coupon = coupon_touchpoint(brand=brand, order=order)
    if coupon is not None:
        touchpoints.append(coupon)
    touchpoints.extend(_tracked_touchpoints(brand=brand, order=order))
    manual = _manual_decision(brand=brand, order=order)
    if manual is not None:
        # The touchpoints are still recorded: they show what the person decided against.
        return AttributionDecision(
            source="manual",
            influencer_id=manual.influencer_id,
            campaign_id=manual.campaign_id,
            code_id=None,
            rule=f"manual decision: {manual.reason}",
            touchpoints=touchpoints,
        )
    winner, rule = attribution_choose(touchpoints) if touchpoints else (None, "no touchpoint")
    if winner is None:
        rule = "unknown code" if order.coupon else "no coupon and no tracked visit"
        return AttributionDecision(
            source="none", influencer_id=None, campaign_id=None, code_id=None, rule=rule, touchpoints=touchpoints
        )
    detail = winner.detail if isinstance(winner.detail, dict) else {}
    variant_id = detail.get("variant_id")
    link_id = detail.get("link") if winner.kind != "coupon" else None
    return AttributionDecision(
        source=_source_for(winner.kind),
        influencer_id=winner.influencer_id,
        campaign_id=winner.campaign_id,
        code_id=winner.code_id,
        rule=rule,
        touchpoints=touchpoints,
        variant_id=variant_id if isinstance(variant_id, int) else None,
        link_id=link_id if isinstance(link_id, int) else None,
    )
