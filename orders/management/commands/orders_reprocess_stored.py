from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brands.models import Brand
from orders.services import orders_reprocess_stored


class Command(BaseCommand):
    help = "Check every stored order against its stored VTEX document and re-apply those that differ."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", help="brand slug (default: all brands)")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = None
        if options.get("brand"):
            brand = Brand.objects.filter(slug=options["brand"]).first()
            if brand is None:
                raise CommandError(f"No brand with slug {options['brand']!r}.")
        report = orders_reprocess_stored(brand=brand)
        self.stdout.write(
            f"checked {report.checked}, differing {report.differing}, re-applied {report.reapplied}, "
            f"failed {report.failed}"
        )
