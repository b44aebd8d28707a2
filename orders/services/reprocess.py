"""Reprocessing: a manager's "fetch again" of an order or a notification, and the check of every
stored order against its stored VTEX document (through the batch path)."""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.models import Brand
from core.errors import NotFound
from orders.models import HookEvent, Order, OrderLine
from orders.parsing import order_parse
from orders.services.batch import orders_apply_batch, orders_by_lane
from orders.services.hooks import hook_event_process
from orders.services.orders import SyncResult, order_sync

# --- Reprocessing ------------------------------------------------------------------------------


def order_reprocess(*, order_id: int, actor: Any = None) -> SyncResult:
    """A manager asks to fetch the order again and recompute everything (audited in the
    sync's transaction)."""
    order = Order.objects.select_related("brand").filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("This order does not exist."))

    def audit(result: SyncResult) -> None:
        audit_record(
            action="order.reprocessed",
            target=order,
            actor=actor,
            brand_id=order.brand_id,
            after={"vtex_order_id": order.vtex_order_id, "reason": result.reason},
        )

    return order_sync(
        brand=order.brand, vtex_order_id=order.vtex_order_id, source="reprocess", force=True, on_applied=audit
    )


def hook_event_reprocess(*, event_id: int, actor: Any = None) -> SyncResult | None:
    """A manager asks to process a notification again, processed or not (audited in the
    sync's transaction; when VTEX does not know the order, with the event's new status)."""
    event = HookEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("This notification does not exist."))
    audited = False

    def audit(result: SyncResult | None) -> None:
        nonlocal audited
        audited = True
        audit_record(
            action="order.notification_reprocessed",
            target=event,
            actor=actor,
            brand_id=event.brand_id,
            after={
                "vtex_order_id": event.vtex_order_id,
                "state": event.state,
                "reason": result.reason if result is not None else "not_in_vtex",
            },
        )

    result = hook_event_process(event_id=event_id, force=True, on_applied=audit)
    if not audited:
        # Nothing was applied (VTEX does not know the order): the event is now FAILED.
        audit(None)
    return result


@dataclass
class StoredReprocessReport:
    checked: int = 0
    differing: int = 0
    reapplied: int = 0
    failed: int = 0


def orders_reprocess_stored(
    *, brand: Brand | None = None, batch_size: int = 2000, progress: Any = None
) -> StoredReprocessReport:
    """Check every stored order against its stored VTEX document, without calling VTEX, and
    re-apply those whose order or lines no longer match (after a bug fix or a manual edit).
    The differing ones go through the batch path (`orders_apply_batch`), like hook events.

    Reads in pk batches with `values_list` (no model instances for orders that match), so it
    scales to hundreds of thousands of orders."""
    report = StoredReprocessReport()
    orders = Order.objects.all() if brand is None else Order.objects.filter(brand=brand)
    last_pk = 0
    while True:
        rows = list(
            orders.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "status", "value_cents", "snapshot")[:batch_size]
        )
        if not rows:
            break
        last_pk = rows[-1][0]
        lines: dict[int, list[tuple[Any, ...]]] = {}
        for row in (
            OrderLine.objects.filter(order_id__gte=rows[0][0], order_id__lte=last_pk)
            .order_by("order_id", "item_index")
            .values_list("order_id", "item_index", "quantity", "total_cents", "returned_quantity", "removed_quantity")
        ):
            lines.setdefault(row[0], []).append(row[1:])
        differing: list[int] = []
        for pk, status, value, snapshot in rows:
            report.checked += 1
            if not snapshot:
                continue
            parsed = order_parse(snapshot)
            expected = [
                (ln.item_index, ln.quantity, ln.total_cents, ln.returned_quantity, ln.removed_quantity)
                for ln in parsed.lines
            ]
            if parsed.status != status or parsed.value_cents != value or expected != lines.get(pk, []):
                differing.append(pk)
        report.differing += len(differing)
        # The hook's batch path: one transaction per brand, lane and batch, a failing order alone.
        by_brand: dict[int, list[tuple[Any, str]]] = {}
        brands: dict[int, Brand] = {}
        for order in Order.objects.filter(pk__in=differing).select_related("brand").order_by("pk"):
            brands[order.brand_id] = order.brand
            by_brand.setdefault(order.brand_id, []).append((order.snapshot, "reprocess"))
        for brand_id, documents in by_brand.items():
            for lane, docs in sorted(orders_by_lane(brand=brands[brand_id], documents=documents).items()):
                results = orders_apply_batch(brand=brands[brand_id], documents=docs, force=True, lane=lane)
                report.reapplied += sum(1 for result in results.values() if not isinstance(result, Exception))
                report.failed += sum(1 for result in results.values() if isinstance(result, Exception))
        if progress is not None:
            progress(report)
    return report
