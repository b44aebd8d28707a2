from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tracking.buffer import SpoolClickBuffer, click_buffer


class Command(BaseCommand):
    help = "Drain buffered clicks into the database now (the Celery Beat task does it every 10 s)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Spool backend: include the files being written.")

    def handle(self, *args: Any, **options: Any) -> None:
        buffer = click_buffer()
        report = buffer.drain(include_open=options["all"]) if isinstance(buffer, SpoolClickBuffer) else buffer.drain()
        self.stdout.write(f"read {report.read}, stored {report.stored}, re-claimed {report.reclaimed}")
