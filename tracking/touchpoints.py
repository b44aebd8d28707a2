"""The tracked touchpoints of an order, for `tracking.attribution.attribution_decide`.

Sources, strongest first (docs/tracking.md):

1. The order's `marketingData` UTMs: `utmiCampaign` (our `utmi_cp`) is the click id,
   `utmiPart` (our `utmi_pc`) the signed influencer reference. A stored click gives a "click"
   touchpoint; a click not drained yet still gives a "utm" touchpoint when the signature holds,
   with the time read from the click id. No cookie is needed.
2. Conversions (order-placed script or server postback) linking the order id or group to a
   visitor id or a click id → that visitor's valid clicks ("visitor").
3. A conversion's fingerprint matched to valid clicks within `TRACKING_FINGERPRINT_MINUTES`
   before it ("fingerprint"), only when 1 and 2 found nothing.
4. A cross-device customer binding of a campaign whose policy enables it ("other").

Touchpoints outside the campaign's attribution window are dropped here (bindings keep their own
lifetime); `tracking.attribution` applies the rest of the policy (coupon vs link, first vs last
click).

Tracking sits below orders, so it never imports the order model: it reads an order through
`OrderFacts`, the few fields it needs, which orders' `Order` has as they are.
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db.models import Q
from django.utils import timezone

from brands.models import Brand
from campaigns.models import Campaign
from core import batching
from tracking.conf import tracking_settings
from tracking.hashing import click_id_time, customer_hashes, is_click_id, ref_verify
from tracking.models import Click, Conversion, CustomerBinding
from tracking.selectors import DEFAULT_WINDOW_DAYS, attribution_policy_for

MAX_WINDOW = timedelta(days=30)


class OrderFacts(Protocol):
    """What tracking reads of an order: its VTEX ids, the coupon typed, when it was placed and
    VTEX's order document (`marketingData`, `clientProfileData`). Read-only."""

    @property
    def vtex_order_id(self) -> str: ...

    @property
    def order_group(self) -> str: ...

    @property
    def coupon(self) -> str: ...

    @property
    def promotion_id(self) -> str: ...

    @property
    def created_in_vtex_at(self) -> datetime | None: ...

    @property
    def created_at(self) -> datetime | None: ...

    @property
    def snapshot(self) -> Any: ...


@dataclass(frozen=True)
class Touchpoint:
    """One reason an order may belong to an influencer; recorded on the order as JSON."""

    kind: str  # coupon, click, utm, visitor, fingerprint, other
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


def order_marketing_data(order: OrderFacts) -> Mapping[str, Any]:
    snapshot = getattr(order, "snapshot", None) or {}
    data = snapshot.get("marketingData") if isinstance(snapshot, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def order_customer_hashes(order: OrderFacts) -> list[str]:
    return document_customer_hashes(getattr(order, "snapshot", None) or {})


def document_customer_hashes(document: Mapping[str, Any]) -> list[str]:
    """The customer hashes of a VTEX order document (its `clientProfileData`)."""
    profile = document.get("clientProfileData") if isinstance(document, Mapping) else None
    if not isinstance(profile, Mapping):
        return []
    return customer_hashes(email=profile.get("email"), document=profile.get("document"))


def _bindings_ahead_key(brand_id: int) -> tuple[str, int]:
    return ("tracking:bindings-ahead", brand_id)


def bindings_read_ahead(*, brand_id: int, documents: Iterable[Mapping[str, Any]]) -> None:
    """Inside a batch (core.batching): which of the batch's customers the brand has any binding
    for, in one query. An order whose customers have none skips its binding query
    (`_binding_touchpoints`); most customers never ordered through a coupon before. A binding
    the batch records is added (`bindings_ahead_note`), so a later order of the same customer
    in the batch still finds it; a rolled-back order forgets the memo, and the queries return."""
    asked = {h for document in documents for h in document_customer_hashes(document)}
    bound = (
        set(
            CustomerBinding.objects.filter(brand_id=brand_id, customer_hash__in=asked).values_list(
                "customer_hash", flat=True
            )
        )
        if asked
        else set()
    )
    batching.memo_set(_bindings_ahead_key(brand_id), (asked, bound))


def _conversions_ahead_key(brand_id: int) -> tuple[str, int]:
    return ("tracking:conversions-ahead", brand_id)


def conversions_read_ahead(*, brand_id: int, refs: Iterable[str]) -> None:
    """Inside a batch (core.batching): the brand's conversions of these order references (a
    batch's order ids and groups) in one query, so each order's attribution takes its own
    instead of selecting them (`_link_touchpoints`). A conversion recorded after this read and
    before an order of the batch is applied is not seen by that apply, as one recorded just
    after the order's own read was not before: the pixel reports the order at checkout,
    seconds before VTEX's notification, and the order's next sync sees it in any case."""
    asked = {ref for ref in refs if ref}
    by_ref: dict[str, list[Conversion]] = {}
    for conversion in Conversion.objects.filter(brand_id=brand_id, order_ref__in=asked) if asked else []:
        by_ref.setdefault(conversion.order_ref, []).append(conversion)
    batching.memo_set(_conversions_ahead_key(brand_id), (asked, by_ref))


def _conversions_of(*, brand: Brand, refs: set[str]) -> list[Conversion]:
    """The brand's conversions of the order's references, newest first (Conversion's ordering):
    from the batch's read-ahead when it asked for them, else one query."""
    if not refs:
        return []
    ahead = batching.memo_peek(_conversions_ahead_key(brand.pk))
    if ahead is not None and refs <= ahead[0]:
        found = [conversion for ref in refs for conversion in ahead[1].get(ref, ())]
        return sorted(found, key=lambda conversion: (conversion.occurred_at, conversion.pk), reverse=True)
    return list(Conversion.objects.filter(brand=brand, order_ref__in=refs))


def bindings_ahead_note(*, brand_id: int, customer_hash: str) -> None:
    """A binding of this customer now exists (recorded in the running batch)."""
    ahead = batching.memo_peek(_bindings_ahead_key(brand_id))
    if ahead is not None:
        ahead[1].add(customer_hash)


def _bindings_known_absent(brand_id: int, hashes: list[str]) -> bool:
    ahead = batching.memo_peek(_bindings_ahead_key(brand_id))
    if ahead is None:
        return False
    asked, bound = ahead
    return all(h in asked and h not in bound for h in hashes)


def order_placed_at(order: OrderFacts) -> datetime:
    return getattr(order, "created_in_vtex_at", None) or getattr(order, "created_at", None) or timezone.now()


def _order_refs(order: OrderFacts) -> set[str]:
    return {r for r in (getattr(order, "vtex_order_id", ""), getattr(order, "order_group", "")) if r}


def _from_click(click: Click, *, kind: str, via: str) -> Touchpoint:
    return Touchpoint(
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
    ids = set(campaign_ids)
    if not ids:  # most orders (a coupon, no click): not even the query's compilation
        return {}
    campaigns = Campaign.objects.filter(pk__in=ids).select_related("attribution_policy")
    return {c.pk: attribution_policy_for(c).window_days for c in campaigns}


def _utm_touchpoints(*, brand: Brand, order: OrderFacts) -> list[Touchpoint]:
    """1. The click named by the order's UTMs: the stored click when its influencer matches the
    signed reference (or the reference is missing), else the signed reference alone when the
    click is not stored yet. A forged reference gives nothing."""
    marketing = order_marketing_data(order)
    click_ref = str(marketing.get("utmiCampaign") or "").strip().upper()
    if not is_click_id(click_ref):
        return []
    part = str(marketing.get("utmiPart") or marketing.get("utmipage") or "").strip()
    verified = ref_verify(click_id=click_ref, ref=part)
    click = Click.objects.filter(brand=brand, click_id=click_ref).first()
    if click is not None and (verified is None or verified[0] == click.influencer_id):
        return [_from_click(click, kind="click", via="utm")]
    if click is None and verified is not None:
        return [
            Touchpoint(
                kind="utm",
                influencer_id=verified[0],
                campaign_id=verified[1],
                occurred_at=click_id_time(click_ref),
                detail={"via": "utm", "click": click_ref, "stored": False},
            )
        ]
    return []


def _visitor_touchpoints(
    *, brand: Brand, conversions: list[Conversion], placed_at: datetime, seen: set[int]
) -> list[Touchpoint]:
    """2. The valid clicks, within `MAX_WINDOW` before the order, of the visitors and click ids
    the order's conversions name; clicks in `seen` are skipped (and added to it)."""
    visitor_ids = {c.visitor_id for c in conversions if c.visitor_id}
    click_ids = {c.click_id for c in conversions if c.click_id}
    if not visitor_ids and not click_ids:
        return []
    clicks = Click.objects.filter(
        brand=brand, is_valid=True, occurred_at__gte=placed_at - MAX_WINDOW, occurred_at__lte=placed_at
    )
    clicks = clicks.filter(Q(visitor_id__in=visitor_ids) | Q(click_id__in=click_ids)).order_by("occurred_at")
    found = []
    for click in clicks:
        if click.pk not in seen:
            found.append(_from_click(click, kind="visitor", via="conversion"))
            seen.add(click.pk)
    return found


def _fingerprint_touchpoints(*, brand: Brand, conversions: list[Conversion], seen: set[int]) -> list[Touchpoint]:
    """3. For conversions without a visitor id: valid clicks with the same fingerprint shortly
    before the conversion."""
    fingerprints = {c.fingerprint: c.occurred_at for c in conversions if c.fingerprint and not c.visitor_id}
    short = timedelta(minutes=tracking_settings().fingerprint_minutes)
    found = []
    for fp, converted_at in fingerprints.items():
        for click in Click.objects.filter(
            brand=brand,
            is_valid=True,
            fingerprint=fp,
            occurred_at__gte=converted_at - short,
            occurred_at__lte=converted_at,
        ).order_by("occurred_at"):
            if click.pk not in seen:
                found.append(_from_click(click, kind="fingerprint", via="fingerprint"))
                seen.add(click.pk)
    return found


def _within_windows(touchpoints: list[Touchpoint], *, placed_at: datetime) -> list[Touchpoint]:
    """Drop the touchpoints older than their campaign's attribution window (one query)."""
    windows = _windows(tp.campaign_id for tp in touchpoints if tp.campaign_id)
    return [
        tp
        for tp in touchpoints
        if _in_window(
            tp.occurred_at, placed_at=placed_at, window_days=windows.get(tp.campaign_id or 0, DEFAULT_WINDOW_DAYS)
        )
    ]


def _binding_touchpoints(*, brand: Brand, order: OrderFacts, refs: set[str], placed_at: datetime) -> list[Touchpoint]:
    """4. Cross-device bindings of the order's customer, live when it was placed, of campaigns
    whose policy enables them (the binding's own lifetime applies, not the click window). A
    binding made by this very order does not count."""
    hashes = order_customer_hashes(order)
    if not hashes or _bindings_known_absent(brand.pk, hashes):
        return []
    bindings = CustomerBinding.objects.filter(brand=brand, customer_hash__in=hashes, bound_at__lte=placed_at).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=placed_at)
    )
    bindings = bindings.exclude(order_ref__in=refs) if refs else bindings
    return [
        Touchpoint(
            kind="other",
            influencer_id=binding.influencer_id,
            campaign_id=binding.campaign_id,
            occurred_at=binding.bound_at,
            detail={"via": "customer_binding", "first_order": binding.order_ref},
        )
        for binding in bindings.select_related("campaign__attribution_policy")
        if attribution_policy_for(binding.campaign).cross_device
    ]


def _link_touchpoints(*, brand: Brand, order: OrderFacts, refs: set[str], placed_at: datetime) -> list[Touchpoint]:
    """Sources 1-3, before the campaign windows are applied."""
    found = _utm_touchpoints(brand=brand, order=order)
    conversions = _conversions_of(brand=brand, refs=refs)
    seen = {tp.click_id for tp in found if tp.click_id is not None}
    found += _visitor_touchpoints(brand=brand, conversions=conversions, placed_at=placed_at, seen=seen)
    if not found:
        # A fingerprint is the weakest link: used only when nothing stronger names a visitor.
        found = _fingerprint_touchpoints(brand=brand, conversions=conversions, seen=seen)
    return found


def touchpoints_for_order(*, brand: Brand, order: OrderFacts) -> list[Touchpoint]:
    """Every tracked touchpoint of `order` (of `brand`) within its campaign's window."""
    placed_at = order_placed_at(order)
    refs = _order_refs(order)
    found = _link_touchpoints(brand=brand, order=order, refs=refs, placed_at=placed_at)
    return _within_windows(found, placed_at=placed_at) + _binding_touchpoints(
        brand=brand, order=order, refs=refs, placed_at=placed_at
    )


def touchpoints_beyond_window(*, brand: Brand, order: OrderFacts) -> list[Touchpoint]:
    """The link touchpoints of `order` that its campaign's window dropped (a click too long
    before the order), to explain why they earned nothing (missing-order claims). The window
    rule stays `_within_windows`'s."""
    placed_at = order_placed_at(order)
    found = _link_touchpoints(brand=brand, order=order, refs=_order_refs(order), placed_at=placed_at)
    kept = {id(tp) for tp in _within_windows(found, placed_at=placed_at)}
    return [tp for tp in found if id(tp) not in kept]
