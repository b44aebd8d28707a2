from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit log's hash chain and name the first event that was edited or removed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="events read per query (default 2000)")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(count: int) -> None:
            self.stdout.write(f"  verified {count} events…")

        report = audit_chain_verify(batch_size=options["batch_size"], progress=progress)
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event {report.broken_at}: {report.reason}. Checked {report.checked} before it."
            )
        if report.unsealed:
            self.stderr.write(f"{report.unsealed} events were written over 10 minutes ago and are not sealed yet.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
