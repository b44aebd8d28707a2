from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brands.models import Brand
from core.errors import ApplicationError
from orders.hook_config import hook_config_register


class Command(BaseCommand):
    help = "Register the brand's VTEX order hook (POST /api/orders/hook/config) pointing at --url."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--url", required=True, help="public https URL of /api/v1/webhooks/vtex/<slug>/orders/")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand with slug {options['brand']!r}.")
        try:
            registration = hook_config_register(brand=brand, url=options["url"])
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Hook of {brand.slug} → {registration.url} ({', '.join(registration.statuses)})")
