from datetime import timedelta
from typing import Any

from django.utils import timezone

from campaigns.models import Brand, Campaign

DEMO_BRAND_SLUG = "demo"


def seed(*, out: Any) -> None:
    brand, created = Brand.objects.get_or_create(
        slug=DEMO_BRAND_SLUG,
        defaults={
            "name": "Demo Store",
            "vtex_account": "demo",
            "currency": "COP",
            "country": "CO",
            "time_zone": "America/Bogota",
            "store_domains": ["demo.vtexcommercestable.com.br", "www.demo-store.example"],
            "min_withdrawal_cents": 50_000_00,
            "default_hold_days": 15,
        },
    )
    campaign, _ = Campaign.objects.get_or_create(
        brand=brand,
        slug="lanzamiento",
        defaults={
            "name": "Lanzamiento",
            "status": Campaign.Status.ACTIVE,
            "starts_at": timezone.now() - timedelta(days=30),
            "attribution_window_days": 30,
            "hold_days": 15,
            "utm_source": "mgm",
            "utm_campaign": "lanzamiento",
        },
    )
    out.write(f"  brand {brand.slug} (VTEX account {brand.vtex_account}){' created' if created else ''}")
    out.write(f"  campaign {campaign.name} [{campaign.status}]")
