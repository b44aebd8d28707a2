"""Every row lock the reports context takes (core/locks.py says how and why)."""

from datetime import date

from brands.models import Brand
from core.locks import lock_rows
from reports.models import RollupDay, SavedReport


def rollup_days_lock(*, brand: Brand, start: date, end: date) -> list[int]:
    """The brand's rollup days in [start, end]: one refresh of a day at a time."""
    return list(
        lock_rows(RollupDay.objects.filter(brand=brand, day__gte=start, day__lte=end)).values_list("pk", flat=True)
    )


def saved_report_lock(*, pk: int) -> SavedReport:
    return lock_rows(SavedReport.objects.filter(pk=pk)).get()
