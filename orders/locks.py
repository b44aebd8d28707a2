"""Every row lock the orders context takes (core/locks.py says how and why). Commissions, which
reconciles an order's money, locks order rows through here too."""

from collections.abc import Iterable

from django.db.models import Q

from core.locks import lock_rows
from orders.models import Discrepancy, HookEvent, Order


def order_lock(*, pk: int) -> Order:
    """One order, with its brand and code loaded (not locked). Lines, commissions and
    conversions that reference the order can be inserted meanwhile; every writer of the order's
    own facts takes this lock first."""
    return lock_rows(Order.objects.filter(pk=pk).select_related("brand", "code")).get()


def order_find_lock(*, brand_id: int, vtex_order_id: str) -> Order | None:
    return lock_rows(
        Order.objects.filter(brand_id=brand_id, vtex_order_id=vtex_order_id).select_related("brand")
    ).first()


def orders_find_lock_many(*, brand_id: int, vtex_order_ids: Iterable[str]) -> list[Order]:
    """The brand's orders among these VTEX ids (those we have), each with its brand, locked in
    pk order in one statement: a batch takes its orders' locks at once."""
    ids = sorted(set(vtex_order_ids))
    return list(lock_rows(Order.objects.filter(brand_id=brand_id, vtex_order_id__in=ids).select_related("brand")))


def orders_lock(*, pks: Iterable[int]) -> list[Order]:
    return list(lock_rows(Order.objects.filter(pk__in=sorted(set(pks)))))


def hook_events_due_lock(*, due: Q, max_attempts: int, limit: int) -> list[int]:
    """Up to `limit` pending hook events, skipping those another batch holds."""
    return list(
        lock_rows(
            HookEvent.objects.filter(due, status=HookEvent.Status.PENDING, attempts__lt=max_attempts), skip_locked=True
        ).values_list("pk", flat=True)[:limit]
    )


def discrepancy_lock(*, pk: int) -> Discrepancy:
    return lock_rows(Discrepancy.objects.filter(pk=pk).select_related("run")).get()
