"""Who gets the order: the attribution decision.

`attribution_decide` collects touchpoints (the coupon typed at checkout here; tracked clicks,
UTMs, visitor and fingerprint matches from `tracking.touchpoints.touchpoints_for_order` once that
module exists) and `_choose` picks one by precedence. The decision is recorded on the order
(source, code, rule, touchpoints) by orders.services, so admin and the influencer see why.

Precedence (default policy "coupon_first"): a coupon of the brand wins over a link; among links
a click wins over bare UTMs; among touchpoints of one kind the latest wins (last touch). The
tracking engineer extends `_choose` with per-campaign policies; keep every precedence rule in it.
"""

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from campaigns.models import Brand
    from codes.models import Code
    from orders.models import Order

logger = logging.getLogger(__name__)

TouchpointKind = Literal["coupon", "click", "utm", "visitor", "fingerprint", "other"]
DEFAULT_POLICY = "coupon_first"
# Lower wins under the default policy.
_KIND_RANK = {"coupon": 0, "click": 1, "visitor": 2, "fingerprint": 3, "utm": 4, "other": 5}


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


def _code_by_text(*, brand: "Brand", text: str) -> "Code | None":
    """The brand's code typed at checkout (case-insensitive), through codes.selectors."""
    try:
        selectors = importlib.import_module("codes.selectors")
    except ImportError:
        selectors = None
    finder: Callable[..., Any] | None = getattr(selectors, "code_get_by_text", None)
    if finder is not None:
        return finder(brand=brand, text=text)
    # Until codes.selectors lands: the same read, by the unique (brand, UPPER(text)) index.
    from codes.models import Code

    return Code.objects.filter(brand=brand, text__iexact=text.strip()).first()


def coupon_touchpoint(*, brand: "Brand", order: "Order") -> Touchpoint | None:
    if not order.coupon:
        return None
    code = _code_by_text(brand=brand, text=order.coupon)
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
        module = importlib.import_module("tracking.touchpoints")
    except ImportError:
        return []
    finder = getattr(module, "touchpoints_for_order", None)
    if finder is None:
        return []
    try:
        return list(finder(brand=brand, order=order) or [])
    except Exception:
        # A tracking failure must not lose the order: log it and decide on what we have.
        logger.exception("tracking touchpoints failed for order %s", order.vtex_order_id)
        return []


def _choose(touchpoints: Sequence[Touchpoint], policy: str = DEFAULT_POLICY) -> tuple[Touchpoint | None, str]:
    """Pick the winning touchpoint and name the rule that picked it."""
    if not touchpoints:
        return None, "no touchpoint"
    if policy == "last_touch":
        winner = max(
            touchpoints, key=lambda tp: (tp.occurred_at is not None, tp.occurred_at or datetime.min.replace(tzinfo=UTC))
        )
        return winner, f"last touch: {winner.kind}"
    # Per-campaign policy (tracking.AttributionPolicy: coupon vs link, first vs last click);
    # campaigns without a policy row get the same defaults as below.
    try:
        from tracking.attribution import attribution_choose
    except ImportError:
        pass
    else:
        if policy == DEFAULT_POLICY:
            return attribution_choose(touchpoints)
    # coupon_first (default)
    ordered = sorted(
        touchpoints,
        key=lambda tp: (
            _KIND_RANK.get(tp.kind, 9),
            -(tp.occurred_at.timestamp() if tp.occurred_at else 0),
        ),
    )
    winner = ordered[0]
    kinds = {tp.kind for tp in touchpoints}
    if winner.kind == "coupon":
        rule = "coupon wins over link" if kinds - {"coupon"} else "coupon of the brand"
    else:
        rule = f"{winner.kind}, latest of its kind"
    return winner, rule


def _source_for(kind: str) -> str:
    return kind if kind in {"coupon", "click", "utm"} else "other"


def attribution_decide(*, brand: "Brand", order: "Order") -> AttributionDecision:
    """Decide who the order is attributed to. Reads only; the caller records the decision."""
    touchpoints: list[Touchpoint] = []
    coupon = coupon_touchpoint(brand=brand, order=order)
    if coupon is not None:
        touchpoints.append(coupon)
    touchpoints.extend(_tracking_touchpoints(brand=brand, order=order))
    winner, rule = _choose(touchpoints, DEFAULT_POLICY)
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
