"""The tracked touchpoints of an order, for `orders.attribution.attribution_decide`.

Sources, strongest first (docs/tracking.md):

1. The order's `marketingData` UTMs: `utmiCampaign` (our `utmi_cp`) is the click id,
   `utmiPart` (our `utmi_pc`) the signed influencer reference. A stored click gives a "click"
   touchpoint; a click not drained yet still gives a "utm" touchpoint when the signature holds,
   with the time read from the click id. No cookie is needed.
2. Conversions (order-placed script or server postback) linking the order id or group to a
   visitor id or a click id → that visitor's valid clicks ("visitor").
3. A conversion's fingerprint matched to valid clicks within `TRACKING_FINGERPRINT_MINUTES`
   before it ("fingerprint").
4. A cross-device customer binding of a campaign whose policy enables it ("other").

Touchpoints outside the campaign's attribution window are dropped here; `_choose` applies the
rest of the policy (coupon vs link, first vs last click).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from tracking.conf import tracking_settings
from tracking.hashing import click_id_time, customer_hashes, is_click_id, ref_verify
from tracking.models import Click, Conversion, CustomerBinding

if TYPE_CHECKING:
    from orders.attribution import Touchpoint

MAX_WINDOW = timedelta(days=30)


def order_marketing_data(order: Any) -> Mapping[str, Any]:
    snapshot = getattr(order, "snapshot", None) or {}
    data = snapshot.get("marketingData") if isinstance(snapshot, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def order_customer_hashes(order: Any) -> list[str]:
    snapshot = getattr(order, "snapshot", None) or {}
    profile = snapshot.get("clientProfileData") if isinstance(snapshot, Mapping) else None
    if not isinstance(profile, Mapping):
        return []
    return customer_hashes(email=profile.get("email"), document=profile.get("document"))


def order_placed_at(order: Any) -> datetime:
    return getattr(order, "created_in_vtex_at", None) or getattr(order, "created_at", None) or timezone.now()


def _touchpoint(**kwargs: Any) -> "Touchpoint":
    from orders.attribution import Touchpoint

    return Touchpoint(**kwargs)


def _from_click(click: Click, *, kind: str, via: str) -> "Touchpoint":
    return _touchpoint(
        kind=kind,
        influencer_id=click.influencer_id,
        campaign_id=click.campaign_id,
        click_id=click.pk,
        occurred_at=click.occurred_at,
        detail={"via": via, "click": click.click_id, "link": click.link_id, "referrer": click.referrer_host},
    )


def _in_window(occurred_at: datetime | None, *, placed_at: datetime, window_days: int) -> bool:
    """The click must precede the order by less than the campaign's window (strictly)."""
    if occurred_at is None:
        return False
    age = placed_at - occurred_at
    return timedelta(0) <= age < timedelta(days=window_days)


def _windows(campaign_ids: Iterable[int]) -> dict[int, int]:
    from campaigns.models import Campaign
    from tracking.selectors import attribution_policy_for

    campaigns = Campaign.objects.filter(pk__in=set(campaign_ids)).select_related("attribution_policy")
    return {c.pk: attribution_policy_for(c).window_days for c in campaigns}


def touchpoints_for_order(*, brand: Any, order: Any) -> list["Touchpoint"]:
    """Every tracked touchpoint of `order` (of `brand`) within its campaign's window."""
    placed_at = order_placed_at(order)
    since = placed_at - MAX_WINDOW
    found: list[Touchpoint] = []
    seen_clicks: set[int] = set()

    # 1. UTMs on the order.
    marketing = order_marketing_data(order)
    click_ref = str(marketing.get("utmiCampaign") or "").strip().upper()
    part = str(marketing.get("utmiPart") or marketing.get("utmipage") or "").strip()
    if is_click_id(click_ref):
        verified = ref_verify(click_id=click_ref, ref=part)
        click = Click.objects.filter(brand=brand, click_id=click_ref).first()
        if click is not None and (verified is None or verified[0] == click.influencer_id):
            found.append(_from_click(click, kind="click", via="utm"))
            seen_clicks.add(click.pk)
        elif click is None and verified is not None:
            found.append(
                _touchpoint(
                    kind="utm",
                    influencer_id=verified[0],
                    campaign_id=verified[1],
                    occurred_at=click_id_time(click_ref),
                    detail={"via": "utm", "click": click_ref, "stored": False},
                )
            )

    # 2 and 3. Conversions for the order id or its group.
    refs = {r for r in (getattr(order, "vtex_order_id", ""), getattr(order, "order_group", "")) if r}
    conversions = list(Conversion.objects.filter(brand=brand, order_ref__in=refs)) if refs else []
    visitor_ids = {c.visitor_id for c in conversions if c.visitor_id}
    click_ids = {c.click_id for c in conversions if c.click_id}
    if visitor_ids or click_ids:
        clicks = Click.objects.filter(brand=brand, is_valid=True, occurred_at__gte=since, occurred_at__lte=placed_at)
        clicks = clicks.filter(Q(visitor_id__in=visitor_ids) | Q(click_id__in=click_ids)).order_by("occurred_at")
        for click in clicks:
            if click.pk not in seen_clicks:
                found.append(_from_click(click, kind="visitor", via="conversion"))
                seen_clicks.add(click.pk)
    fingerprints = {c.fingerprint: c.occurred_at for c in conversions if c.fingerprint and not c.visitor_id}
    if fingerprints and not found:
        short = timedelta(minutes=tracking_settings().fingerprint_minutes)
        for fp, converted_at in fingerprints.items():
            for click in Click.objects.filter(
                brand=brand,
                is_valid=True,
                fingerprint=fp,
                occurred_at__gte=converted_at - short,
                occurred_at__lte=converted_at,
            ).order_by("occurred_at"):
                if click.pk not in seen_clicks:
                    found.append(_from_click(click, kind="fingerprint", via="fingerprint"))
                    seen_clicks.add(click.pk)

    windows = _windows(tp.campaign_id for tp in found if tp.campaign_id)
    found = [
        tp
        for tp in found
        if _in_window(tp.occurred_at, placed_at=placed_at, window_days=windows.get(tp.campaign_id or 0, 30))
    ]

    # 4. Cross-device binding (the binding's own lifetime applies, not the click window).
    hashes = order_customer_hashes(order)
    if hashes:
        bindings = CustomerBinding.objects.filter(
            brand=brand, customer_hash__in=hashes, bound_at__lte=placed_at
        ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=placed_at))
        bindings = bindings.exclude(order_ref__in=refs) if refs else bindings
        for binding in bindings.select_related("campaign__attribution_policy"):
            from tracking.selectors import attribution_policy_for

            if attribution_policy_for(binding.campaign).cross_device:
                found.append(
                    _touchpoint(
                        kind="other",
                        influencer_id=binding.influencer_id,
                        campaign_id=binding.campaign_id,
                        occurred_at=binding.bound_at,
                        detail={"via": "customer_binding", "first_order": binding.order_ref},
                    )
                )
    return found
