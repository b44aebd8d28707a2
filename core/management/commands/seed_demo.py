from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

# Each context seeds its own demo data through its own services, in dependency order. A seeder
# is a module with `seed(*, out) -> None`; it must be idempotent (get-or-create by natural key).
SEEDERS = [
    "campaigns.demo",
    "accounts.demo",
    "affiliates.demo",
    "codes.demo",
    "payments.demo",
    "tracking.demo",
    "reports.demo",  # last: rebuilds the dashboards' rollups from what the others created
]


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent): brand 'demo' (VTEX account 'demo') with an active campaign, "
        "approved influencers, and manager / finance / admin logins, which it prints."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for dotted in SEEDERS:
            module = import_module(dotted)
            self.stdout.write(f"· {dotted}")
            with transaction.atomic():
                module.seed(out=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
