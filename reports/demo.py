"""Demo activity for the dashboards: when the demo brand has no clicks or orders yet, record
some through the real services (the click store and the order sync with VTEX-shaped
documents using the demo codes), then rebuild the brand's rollups for the last 90 days.
Idempotent: click ids and order ids are fixed."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from campaigns.models import Brand
from reports.rollups import rollups_rebuild


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


def seed(*, out: Any) -> None:
    from codes.models import Code
    from orders.models import Order
    from orders.services import order_apply
    from tracking.buffer import clicks_store
    from tracking.models import Click, Link

    brand = Brand.objects.filter(slug="demo").first()
    if brand is None:
        out.write("  no demo brand; skipped")
        return
    rng = random.Random(8)  # noqa: S311 - demo data, not security
    now = timezone.now()
    if not Click.objects.filter(brand=brand).exists():
        records = []
        for link in Link.objects.filter(brand=brand):
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
                        "visitor": f"demo{rng.randint(0, 400)}",
                        "reason": "" if rng.random() > 0.1 else "bot",
                    }
                )
        out.write(f"  {clicks_store(records)} demo clicks")
    if not Order.objects.filter(brand=brand).exclude(attribution_source="none").exists():
        made = 0
        for code in Code.objects.filter(brand=brand, status=Code.Status.ACTIVE):
            for i in range(12):
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
        out.write(f"  {made} demo orders")
    today = timezone.localtime(now, brand.tz).date()
    rows = rollups_rebuild(brand=brand, date_from=today - timedelta(days=89), date_to=today)
    out.write(f"  rollups rebuilt for the last 90 days: {rows} rows")
