from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brands.models import Brand
from core.errors import ApplicationError
from payments.services import payout_cutoff_run, payout_period_for


class Command(BaseCommand):
    help = (
        "Run the payout cutoff of one brand for the biweekly period (1–15 or 16–end of month) that "
        "contains --date. Idempotent: running it again, or after a crash, completes the same batch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--date", required=True, help="a day of the period to close, YYYY-MM-DD")
        parser.add_argument("--no-wait", action="store_true", help="fail instead of waiting for a running cutoff")
        parser.add_argument("--chunk-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand with slug {options['brand']!r}.")
        try:
            day = date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError("--date must look like 2026-03-15.") from exc
        start, end = payout_period_for(day)
        self.stdout.write(f"Cutoff {brand.slug} {start} – {end} ({brand.time_zone})")
        try:
            batch = payout_cutoff_run(
                brand=brand, period_start=start, wait=not options["no_wait"], chunk_size=options["chunk_size"]
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Batch {batch.pk} {batch.status}: released {batch.released_count} commission(s), "
                f"{batch.released_cents} cents; {batch.withdrawals.count()} withdrawal(s); run #{batch.runs}."
            )
        )
