from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from brands.models import Brand
from reports.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the daily rollups of a brand over a date range (brand time zone), with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", required=True, help="Brand slug.")
        parser.add_argument("--from", dest="date_from", help="First day, YYYY-MM-DD (default: 90 days ago).")
        parser.add_argument("--to", dest="date_to", help="Last day, YYYY-MM-DD (default: today).")
        parser.add_argument("--chunk-days", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand with slug {options['brand']!r}.")
        try:
            today = timezone.localtime(timezone.now(), brand.tz).date()
            date_to = date.fromisoformat(options["date_to"]) if options["date_to"] else today
            date_from = (
                date.fromisoformat(options["date_from"]) if options["date_from"] else date_to - timedelta(days=89)
            )
        except ValueError as exc:
            raise CommandError(f"Dates are YYYY-MM-DD: {exc}") from exc
        if date_from > date_to:
            raise CommandError("--from must not be after --to.")

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"\r  {done}/{total} days ({100 * done // total}%)", ending="")
            self.stdout.flush()

        written = rollups_rebuild(
            brand=brand, date_from=date_from, date_to=date_to, chunk_days=options["chunk_days"], progress=progress
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"{brand.slug}: {date_from} – {date_to} rebuilt, {written} rows."))
