from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.exports import audit_export_file_verify
from audit.integrity import audit_integrity_run


class Command(BaseCommand):
    help = "Walk the audit log's hash chain and name the first event that was edited or removed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="events read per query (default 2000)")
        parser.add_argument(
            "--export-file",
            help="also check an exported file (JSON lines) on its own, e.g. a copy kept off this system",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(count: int) -> None:
            self.stdout.write(f"  verified {count} events…")

        report, exports = audit_integrity_run(batch_size=options["batch_size"], progress=progress)
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event {report.broken_at}: {report.reason}. Checked {report.checked} before it."
            )
        if report.unsealed:
            self.stderr.write(f"{report.unsealed} events were written over 10 minutes ago and are not sealed yet.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
        broken = [check for check in exports if not check.ok]
        if broken:
            raise CommandError(
                "Audit exports do not match: " + "; ".join(f"export {c.export_id}: {c.reason}" for c in broken)
            )
        self.stdout.write(self.style.SUCCESS("Audit exports match the chain head they recorded."))
        if options.get("export_file"):
            with open(options["export_file"], "rb") as handle:
                try:
                    head_seq, head_hash = audit_export_file_verify(handle.read())
                except ValueError as exc:
                    raise CommandError(f"Export file does not verify: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"Export file intact up to event {head_seq} ({head_hash})."))
