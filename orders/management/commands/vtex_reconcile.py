from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brands.models import Brand
from orders.models import ReconciliationRun
from orders.reconciliation import reconciliation_run


class Command(BaseCommand):
    help = "Reconcile one day (brand time zone) of a brand's orders against VTEX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--date", required=True, help="YYYY-MM-DD in the brand's time zone")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand with slug {options['brand']!r}.")
        try:
            day = date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError("Give the date as YYYY-MM-DD.") from exc
        run = reconciliation_run(brand=brand, day=day, trigger=ReconciliationRun.Trigger.MANUAL)
        assert run is not None
        self.stdout.write(
            f"{brand.slug} {day}: {run.status}; listed {run.listed}, fetched {run.fetched}, missing {run.missing}, "
            f"mismatched {run.mismatched}, orphaned {run.orphaned}, unresolved {run.unresolved}"
        )
        if run.status == ReconciliationRun.Status.FAILED:
            raise CommandError(run.error)
