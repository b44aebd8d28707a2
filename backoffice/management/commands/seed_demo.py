import logging
from contextlib import nullcontext
from types import ModuleType
from typing import Any

from celery import current_app as celery_app
from django.core import mail
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from affiliates import demo as affiliates_demo
from brands import demo as brands_demo
from brands.models import Brand
from campaigns import demo as campaigns_demo
from codes import demo as codes_demo
from creatives import demo as creatives_demo
from payments import demo as payments_demo
from reports import demo as reports_demo
from tracking import demo as tracking_demo

# Each context seeds its own demo data through its own services, in dependency order. A seeder
# is a module with `seed(*, out) -> None`; it must be idempotent (get-or-create by natural key).
# The back office sits above every context, so it imports them plainly.
SEEDERS: list[ModuleType] = [
    campaigns_demo,
    brands_demo,
    affiliates_demo,
    codes_demo,
    payments_demo,
    tracking_demo,
    creatives_demo,
    reports_demo,  # last: rebuilds the dashboards' rollups from what the others created
]


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent): brand 'demo' (VTEX account 'demo') with an active campaign, "
        "approved influencers, and manager / finance / admin logins, which it prints."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--send-emails",
            action="store_true",
            help="send the emails the demo services trigger (approvals, applications) with the "
            "configured backend; by default they are kept in memory and only counted",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Demo people have demo addresses; their welcome and approval emails would only bury the
        # logins printed here. The services still build and "send" them (in memory).
        backend = None if options["send_emails"] else "django.core.mail.backends.locmem.EmailBackend"
        # Tasks run here, not on a worker, so with REDIS_URL set too the emails are built in this
        # process (kept in memory) and the rollups are ready when the command ends.
        # The project's Celery app is the current one (config/__init__.py creates it first); the
        # back office sits below config and reaches it through Celery rather than by import.
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            self._seed(backend)
        finally:
            celery_app.conf.task_always_eager = eager
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _seed(self, backend: str | None) -> None:
        # The demo brand has no VTEX credentials, so every code's coupon sync fails by design;
        # one plain sentence says so instead of a WARNING per code.
        sync_log = logging.getLogger("codes.services.sync")
        level = sync_log.level
        sync_log.setLevel(logging.ERROR)
        try:
            with override_settings(EMAIL_BACKEND=backend) if backend else nullcontext():
                mail.outbox = []
                for module in SEEDERS:
                    self.stdout.write(f"· {module.__name__}")
                    with transaction.atomic():
                        module.seed(out=self.stdout)
                if backend:
                    self.stdout.write(f"  ({len(mail.outbox)} demo emails built, not sent; --send-emails sends them)")
        finally:
            sync_log.setLevel(level)
        demo = Brand.objects.filter(slug="demo").first()
        if demo is not None and not (demo.vtex_app_key and demo.vtex_app_token):
            self.stdout.write(
                "  Codes are not sent to VTEX: the demo brand has no VTEX app key and token. "
                "Add them on the brand's page in the back office, then use 'Sync again' on the codes."
            )
