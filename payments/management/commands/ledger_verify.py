from typing import Any

from django.core.management.base import BaseCommand, CommandError

from payments.integrity import ledger_integrity_run


class Command(BaseCommand):
    help = "Check the ledger's invariants (balanced transactions, balances equal to their sub-ledgers)."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_integrity_run()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} ledger problem(s).")
        self.stdout.write(self.style.SUCCESS("Ledger verified."))
