from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_key_create
from campaigns.models import Brand


class Command(BaseCommand):
    help = "Create an API key for one brand's external client and print it once (only its hash is stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--name", required=True, help="who uses the key, e.g. 'BI warehouse'")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand with slug {options['brand']!r}.")
        api_key, secret = api_key_create(brand=brand, name=options["name"])
        self.stdout.write(f"API key {api_key.name!r} for brand {brand.slug} (prefix {api_key.prefix}).")
        self.stdout.write("Store it now; it cannot be shown again:")
        self.stdout.write(secret)
