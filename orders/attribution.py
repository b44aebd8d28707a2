"""Who gets the order: the attribution decision.

`attribution_decide` collects touchpoints (the coupon typed at checkout here; tracked clicks,
UTMs, visitor and fingerprint matches from `tracking.touchpoints.touchpoints_for_order`) and
`_choose` picks one. The decision is recorded on the order (source, code, rule, touchpoints) by
orders.services, so admin and the influencer see why.

Precedence lives in one place, `tracking.attribution.attribution_choose`: each campaign's
policy (coupon vs link, first vs last click; campaigns without a policy row get the defaults:
a coupon of the brand wins over a link, the latest touch of a kind wins).
"""

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from codes.selectors import code_get_by_text
from tracking.attribution import attribution_choose
from tracking.touchpoints import touchpoints_for_order

if TYPE_CHECKING:
    from brands.models import Brand
    from orders.models import Order

logger = logging.getLogger(__name__)

TouchpointKind = Literal["coupon", "click", "utm", "visitor", "fingerprint", "other"]


@dataclass(frozen=True)
class Touchpoint:
    kind: str
    influencer_id: int
    campaign_id: int | None
    code_id: int | None = None
    click_id: int | None = None
    occurred_at: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["occurred_at"] = self.occurred_at.isoformat() if self.occurred_at else None
        return data


@dataclass(frozen=True)
class AttributionDecision:
    source: str  # Order.AttributionSource value: none, coupon, click, utm, other
    influencer_id: int | None
    campaign_id: int | None
    code_id: int | None
    rule: str
    touchpoints: list[Touchpoint] = field(default_factory=list)
    variant_id: int | None = None

    @property
    def attributed(self) -> bool:
        return self.influencer_id is not None

    def touchpoints_json(self) -> list[dict[str, Any]]:
        return [tp.as_json() for tp in self.touchpoints]


def coupon_touchpoint(*, brand: "Brand", order: "Order") -> Touchpoint | None:
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


def _tracking_touchpoints(*, brand: "Brand", order: "Order") -> list[Touchpoint]:
    try:
        return list(touchpoints_for_order(brand=brand, order=order) or [])
    except Exception:
        # A tracking failure must not lose the order: log it and decide on what we have.
        logger.exception("tracking touchpoints failed for order %s", order.vtex_order_id)
        return []


def _choose(touchpoints: Sequence[Touchpoint]) -> tuple[Touchpoint | None, str]:
    """Pick the winning touchpoint and name the rule that picked it (campaign policies)."""
    if not touchpoints:
        return None, "no touchpoint"
    return attribution_choose(touchpoints)


def _source_for(kind: str) -> str:
    return kind if kind in {"coupon", "click", "utm"} else "other"


def attribution_decide(*, brand: "Brand", order: "Order") -> AttributionDecision:
    """Decide who the order is attributed to. Reads only; the caller records the decision."""
    touchpoints: list[Touchpoint] = []
    coupon = coupon_touchpoint(brand=brand, order=order)
    if coupon is not None:
        touchpoints.append(coupon)
    touchpoints.extend(_tracking_touchpoints(brand=brand, order=order))
    winner, rule = _choose(touchpoints)
    if winner is None:
        rule = "unknown code" if order.coupon else "no coupon and no tracked visit"
        return AttributionDecision(
            source="none", influencer_id=None, campaign_id=None, code_id=None, rule=rule, touchpoints=touchpoints
        )
    variant_id = winner.detail.get("variant_id") if isinstance(winner.detail, dict) else None
    return AttributionDecision(
        source=_source_for(winner.kind),
        influencer_id=winner.influencer_id,
        campaign_id=winner.campaign_id,
        code_id=winner.code_id,
        rule=rule,
        touchpoints=touchpoints,
        variant_id=variant_id if isinstance(variant_id, int) else None,
    )
