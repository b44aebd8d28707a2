from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from brands.models import Brand
from campaigns.models import Campaign
from campaigns.services.rules import campaign_rule_add, campaign_tier_add

DEMO_BRAND_SLUG = "demo"
TEMPLATE_SLUG = "plantilla-temporada"


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
            "discount_percent": Decimal(10),
            "open_to_all": True,
        },
    )
    if not campaign.open_to_all:  # databases seeded before campaigns had this flag
        Campaign.objects.filter(pk=campaign.pk).update(open_to_all=True)
    _seed_rules_and_tiers(campaign, rules=[("Todo el catálogo", "all", [], Decimal(10))])
    template, _ = Campaign.objects.get_or_create(
        brand=brand,
        slug=TEMPLATE_SLUG,
        defaults={
            "name": "Plantilla: temporada",
            "status": Campaign.Status.DRAFT,
            "is_template": True,
            "starts_at": timezone.now(),
            "attribution_window_days": 14,
            "hold_days": 15,
            "utm_source": "mgm",
            "utm_campaign": "temporada",
            "discount_percent": Decimal(15),
        },
    )
    _seed_rules_and_tiers(
        template,
        rules=[("SKUs destacados", "sku", ["18", "25"], Decimal(12)), ("Resto del catálogo", "all", [], Decimal(8))],
    )
    out.write(f"  brand {brand.slug} (VTEX account {brand.vtex_account}){' created' if created else ''}")
    out.write(f"  campaign {campaign.name} [{campaign.status}], 10% on every SKU, tiers Plata / Oro")
    out.write(f"  template {template.name}: SKU rules and two tiers")
    # The token is a secret even in a demo (logs and terminals are shared): say where it is read.
    out.write(
        f"  VTEX hook: POST {settings.SITE_URL}/api/v1/webhooks/vtex/{brand.slug}/orders/ "
        f"with the header X-Hook-Token (print it with: manage.py vtex_hook_token --brand {brand.slug})"
    )


def _seed_rules_and_tiers(campaign: Campaign, *, rules: list[tuple[str, str, list[str], Decimal]]) -> None:
    if not campaign.rules.exists():
        for priority, (name, dimension, ids, rate) in enumerate(rules, start=1):
            campaign_rule_add(
                campaign=campaign,
                name=name,
                kind="percentage",
                rate_percent=rate,
                dimension=dimension,
                ids=ids,
                priority=priority * 10,
            )
    if not campaign.tiers.exists():
        campaign_tier_add(campaign=campaign, name="Plata", threshold=2_000_000_00, bonus_percent=Decimal(2))
        campaign_tier_add(campaign=campaign, name="Oro", threshold=5_000_000_00, bonus_percent=Decimal(5))
