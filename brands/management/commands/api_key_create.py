from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.api_scopes import SCOPES
from accounts.services import api_key_create
from brands.models import Brand
from core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API key for one brand's external client and print it once (only its hash is stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--name", required=True, help="who uses the key, e.g. 'BI warehouse'")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            help=f"repeat for each scope (default: every read scope); one of {', '.join(SCOPES)}",
        )
        parser.add_argument("--expires-in-days", type=int, default=None, help="the key stops working after this")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand with slug {options['brand']!r}.")
        days = options["expires_in_days"]
        try:
            api_key, secret = api_key_create(
                brand=brand,
                name=options["name"],
                scopes=options["scopes"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"Scopes: {', '.join(api_key.scopes)}.")
        self.stdout.write(f"API key {api_key.name!r} for brand {brand.slug} (prefix {api_key.prefix}).")
        self.stdout.write("Store it now; it cannot be shown again:")
        self.stdout.write(secret)
