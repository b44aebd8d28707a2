"""Reprocessing: a manager's "fetch again" of an order or a notification, and the check of every
stored order against its stored VTEX document (through the batch path)."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import zip_longest
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


def _differing_stored(*, brand: Brand | None, batch_size: int, report: StoredReprocessReport) -> Iterator[list[int]]:
    """The stored orders (pk order) whose order or lines no longer match their stored VTEX
    document, a pk batch at a time; `report` counts what was checked and what differs.

    Reads with `values_list` (no model instances for orders that match), so it scales to
    hundreds of thousands of orders."""
    orders = Order.objects.all() if brand is None else Order.objects.filter(brand=brand)
    last_pk = 0
    while True:
        rows = list(
            orders.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "status", "value_cents", "snapshot")[:batch_size]
        )
        if not rows:
            return
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
        yield differing


def _stored_documents(pks: Sequence[int]) -> tuple[dict[int, Brand], dict[int, list[tuple[Any, str]]]]:
    """The stored VTEX documents of these orders, by brand."""
    by_brand: dict[int, list[tuple[Any, str]]] = {}
    brands: dict[int, Brand] = {}
    for order in Order.objects.filter(pk__in=pks).select_related("brand").order_by("pk"):
        brands[order.brand_id] = order.brand
        by_brand.setdefault(order.brand_id, []).append((order.snapshot, "reprocess"))
    return brands, by_brand


def orders_reprocess_stored(
    *, brand: Brand | None = None, batch_size: int = 2000, progress: Any = None
) -> StoredReprocessReport:
    """Check every stored order against its stored VTEX document, without calling VTEX, and
    re-apply, in this process, those whose order or lines no longer match (after a bug fix or a
    manual edit). The differing ones go through the batch path (`orders_apply_batch`), like
    hook events. The back office's job fans them out to the workers instead
    (`orders_reprocess_plan` and `orders_reprocess_chunk`)."""
    report = StoredReprocessReport()
    for differing in _differing_stored(brand=brand, batch_size=batch_size, report=report):
        # The hook's batch path: one transaction per brand, lane and batch, a failing order alone.
        brands, by_brand = _stored_documents(differing)
        for brand_id, documents in by_brand.items():
            for lane, docs in sorted(orders_by_lane(brand=brands[brand_id], documents=documents).items()):
                results = orders_apply_batch(brand=brands[brand_id], documents=docs, force=True, lane=lane)
                report.reapplied += sum(1 for result in results.values() if not isinstance(result, Exception))
                report.failed += sum(1 for result in results.values() if isinstance(result, Exception))
        if progress is not None:
            progress(report)
    return report


@dataclass(frozen=True)
class ReprocessChunk:
    """Stored orders of one brand and lane to re-apply together (`orders_reprocess_chunk`)."""

    lane: int
    order_ids: list[int]


def orders_reprocess_plan(
    *, brand: Brand, chunk_size: int = 200, batch_size: int = 2000
) -> tuple[StoredReprocessReport, list[ReprocessChunk]]:
    """Check the brand's stored orders (as `orders_reprocess_stored`) and split the differing
    ones into chunks of at most `chunk_size`, each within one apply lane, lanes in turn, for
    workers to re-apply at once: chunks of different lanes run in parallel, those of one lane
    take turns (orders.services.batch)."""
    report = StoredReprocessReport()
    by_lane: dict[int, list[int]] = {}
    for differing in _differing_stored(brand=brand, batch_size=batch_size, report=report):
        rows = list(Order.objects.filter(pk__in=differing).order_by("pk").values_list("pk", "snapshot"))
        documents = [(snapshot, pk) for pk, snapshot in rows]
        for lane, docs in orders_by_lane(brand=brand, documents=documents).items():
            by_lane.setdefault(lane, []).extend(pk for _snapshot, pk in docs)
    per_lane = [
        [
            ReprocessChunk(lane=lane, order_ids=pks[start : start + chunk_size])
            for start in range(0, len(pks), chunk_size)
        ]
        for lane, pks in sorted(by_lane.items())
    ]
    # Lanes taken in turn (lane 0's first chunk, lane 1's first, …): workers take chunks in
    # queue order, and two chunks of one lane would wait for each other.
    chunks = [chunk for turn in zip_longest(*per_lane) for chunk in turn if chunk is not None]
    return report, chunks


def orders_reprocess_chunk(*, brand: Brand, lane: int, order_ids: Sequence[int]) -> tuple[int, int]:
    """Re-apply these stored orders of the brand from their stored documents, in one batch of
    their lane (orders of another brand are ignored). Returns (re-applied, failed)."""
    documents = [
        (snapshot, "reprocess")
        for snapshot in Order.objects.filter(brand=brand, pk__in=order_ids)
        .order_by("pk")
        .values_list("snapshot", flat=True)
        if snapshot
    ]
    results = orders_apply_batch(brand=brand, documents=documents, force=True, lane=lane)
    failed = sum(1 for result in results.values() if isinstance(result, Exception))
    return len(results) - failed, failed
