from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from brands.models import Brand
from brands.services import brand_rotate_hook_token


class Command(BaseCommand):
    help = (
        "Print a brand's VTEX hook URL and the X-Hook-Token VTEX must send (also the bearer token of "
        "server-to-server conversion postbacks). --rotate issues a new token first; the old one keeps "
        "working for BRAND_HOOK_TOKEN_GRACE_HOURS."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--rotate", action="store_true", help="issue a new token (audited)")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand with slug {options['brand']!r}.")
        if options["rotate"]:
            brand = brand_rotate_hook_token(brand=brand)
            self.stdout.write("New token issued; the previous one works for the grace period.")
        path = reverse("api:vtex-order-hook", kwargs={"brand_slug": brand.slug})
        self.stdout.write(f"URL:          {settings.SITE_URL}{path}")
        self.stdout.write("Header:       X-Hook-Token")
        self.stdout.write(f"Token:        {brand.hook_token}")
        self.stdout.write(f"VTEX account: {brand.vtex_account}")
