"""Demo activity for the dashboards: an A/B campaign ("Prueba A/B", variants A and B) next to
the demo campaign, then, for every demo link and code that has none yet, clicks and orders
recorded through the real services (the click store and the order sync with VTEX-shaped
documents using the demo codes), then the brand's rollups rebuilt for the last 90 days.
Idempotent: the campaign is found by slug, click ids and order ids are fixed."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from affiliates.assignments import campaign_assign_influencer
from affiliates.models import Membership
from brands.models import Brand
from campaigns.models import Campaign
from campaigns.services.campaigns import campaign_create
from campaigns.services.rules import campaign_rule_add
from campaigns.services.status import campaign_status_change
from campaigns.services.variants import VariantInput, campaign_variants_set
from codes.models import Code
from codes.services.issuing import codes_issue_for_influencer
from core.errors import ApplicationError
from orders.models import Order
from orders.services import order_apply
from reports.rollups import rollups_rebuild
from tracking.buffer import clicks_store
from tracking.models import Click, Link
from tracking.services import link_create

AB_SLUG = "prueba-ab"
# Orders per code and A/B variant: B (free shipping) converts clearly better than A.
ORDERS_PER_CODE = {None: 12, "a": 6, "b": 18}


def _order_doc(
    *, order_id: str, coupon: str, created: datetime, cents: int, currency: str, status: str
) -> dict[str, Any]:
    stamp = created.astimezone(UTC).isoformat()
    return {
        "orderId": order_id,
        "orderGroup": order_id.rsplit("-", 1)[0],
        "status": status,
        "value": cents,
        "creationDate": stamp,
        "lastChange": stamp,
        "invoicedDate": stamp if status == "invoiced" else None,
        "marketingData": {"coupon": coupon},
        "storePreferencesData": {"currencyCode": currency},
        "totals": [{"id": "Items", "value": cents}],
        "items": [
            {
                "id": "1001",
                "productId": "10",
                "name": "Demo",
                "quantity": 1,
                "price": cents,
                "sellingPrice": cents,
                "priceTags": [],
                "additionalInfo": {"categoriesIds": "/1/18/"},
            }
        ],
        "packageAttachment": {"packages": []},
    }


def _ab_campaign(*, brand: Brand, now: datetime, out: Any) -> Campaign | None:
    """The demo A/B campaign with its two variants, the approved demo influencers in it, their
    codes and links: all through the campaigns, codes and tracking services."""

    campaign = Campaign.objects.filter(brand=brand, slug=AB_SLUG).first()
    try:
        if campaign is None:
            campaign = campaign_create(
                brand=brand,
                name="Prueba A/B: envío gratis",
                slug=AB_SLUG,
                starts_at=now - timedelta(days=60),
                attribution_window_days=30,
                hold_days=15,
                utm_source="mgm",
                utm_campaign=AB_SLUG,
                discount_percent=Decimal(10),
            )
            campaign_variants_set(
                campaign=campaign,
                variants=[
                    VariantInput(key="a", weight=50, name="A: 10 % de descuento"),
                    VariantInput(key="b", weight=50, name="B: 10 % + envío gratis"),
                ],
            )
            campaign_rule_add(campaign=campaign, name="Todo el catálogo", kind="percentage", rate_percent=Decimal(10))
            campaign = campaign_status_change(campaign=campaign, to_status=Campaign.Status.ACTIVE)
        memberships = Membership.objects.filter(brand=brand, status=Membership.Status.APPROVED).select_related(
            "influencer"
        )
        for membership in memberships.order_by("pk"):
            influencer = membership.influencer
            assignment = campaign_assign_influencer(campaign=campaign, influencer=influencer)
            codes_issue_for_influencer(brand=brand, influencer=influencer, campaigns=[campaign])
            slug = f"ab-{(influencer.handle or str(influencer.pk)).lower().replace('_', '-').replace('.', '-')}"[:40]
            if not Link.objects.filter(slug=slug).exists():
                link_create(campaign=campaign, influencer=influencer, slug=slug, label="A/B")
            out.write(f"  A/B {campaign.name}: {influencer} in variant {getattr(assignment.variant, 'key', '—')}")
    except ApplicationError as exc:  # the demo carries on without the A/B campaign
        out.write(f"  no demo A/B campaign: {exc}")
        return None
    return campaign


def seed(*, out: Any) -> None:
    brand = Brand.objects.filter(slug="demo").first()
    if brand is None:
        out.write("  no demo brand; skipped")
        return
    rng = random.Random(8)  # noqa: S311 - demo data, not security
    now = timezone.now()
    _ab_campaign(brand=brand, now=now, out=out)
    records = []
    for link in Link.objects.filter(brand=brand).order_by("pk"):
        if Click.objects.filter(link=link).exists():
            continue
        for i in range(300):
            when = now - timedelta(days=rng.randint(0, 59), minutes=rng.randint(0, 1440))
            records.append(
                {
                    "click_id": f"01DEMO{link.pk:05d}{i:015d}"[:26],
                    "link": link.pk,
                    "brand": brand.pk,
                    "campaign": link.campaign_id,
                    "influencer": link.influencer_id,
                    "ts": when.timestamp(),
                    "visitor": f"demo{link.pk}-{rng.randint(0, 400)}",
                    "reason": "" if rng.random() > 0.1 else "bot",
                }
            )
    if records:
        out.write(f"  {clicks_store(records)} demo clicks")
    made = 0
    codes = Code.objects.filter(brand=brand, status=Code.Status.ACTIVE).select_related("variant").order_by("pk")
    for code in codes:
        if Order.objects.filter(brand=brand, code=code).exists():
            continue
        for i in range(ORDERS_PER_CODE.get(code.variant.key if code.variant else None, 12)):
            created = now - timedelta(days=rng.randint(0, 59), hours=rng.randint(0, 23))
            doc = _order_doc(
                order_id=f"DEMO{code.pk:04d}{i:04d}-01",
                coupon=code.text,
                created=created,
                cents=rng.randint(80, 600) * 1000_00 // 10,
                currency=brand.currency,
                status="invoiced" if created < now - timedelta(days=7) else "payment-approved",
            )
            try:
                order_apply(brand=brand, data=doc, source="demo")
                made += 1
            except Exception as exc:  # a demo order the rules refuse is skipped, not fatal
                out.write(f"  demo order skipped: {exc}")
    if made:
        out.write(f"  {made} demo orders")
    today = timezone.localtime(now, brand.tz).date()
    rows = rollups_rebuild(brand=brand, date_from=today - timedelta(days=89), date_to=today)
    out.write(f"  rollups rebuilt for the last 90 days: {rows} rows")
