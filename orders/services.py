"""Writes of the orders context: storing hook notifications, reconciling an order to what VTEX
reports ("this order changed: make our state match VTEX's"), reprocessing.

Exactly-once: the raw notification is unique on (brand, order, state, change time); the order
is unique on (brand, VTEX id) and every sync holds its row lock, so two workers on the same
order run one after the other; what they write is derived from VTEX's document (never from the
notification), so duplicates, retries, forged payloads and events out of order converge; and
the ledger postings are idempotent by reference (commissions.services).
"""

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from campaigns.models import Brand
from commissions.models import Commission, LedgerStage
from commissions.services import commissions_sync_for_order
from core import events
from core.errors import ApplicationError, NotFound
from core.events import facts_changed
from integrations.vtex.client import VTEXClient
from integrations.vtex.errors import VTEXError
from orders.attribution import attribution_decide
from orders.metrics import HOOK_EVENTS_TOTAL, ORDER_SYNC_SECONDS, ORDER_SYNCS_TOTAL, TRACKING_STEP_FAILURES_TOTAL
from orders.models import HookEvent, Order, OrderLine, OrderStatusChange, ReturnInvoice
from orders.parsing import HookNotification, OrderData, order_parse, snapshot_hash

logger = logging.getLogger(__name__)


class OrderNotInVTEX(ApplicationError):
    default_code = "order_not_in_vtex"
    status_code = 404


@dataclass(frozen=True)
class SyncResult:
    order_id: int
    changed: bool
    reason: str  # "applied", "unchanged", "stale"
    commissions: Mapping[str, int] | None = None


# --- The hook ---------------------------------------------------------------------------------


_BRAND_CACHE: dict[str, tuple[float, Brand | None]] = {}
BRAND_CACHE_SECONDS = 15.0


def hook_brand_get(*, slug: str) -> Brand | None:
    """The active brand of a hook URL. Cached in the process for a few seconds: the hook is the
    hottest path we have, and the brand row (with its tokens to decrypt) rarely changes. A token
    rotation keeps the previous token valid for far longer than the cache lives."""
    now = time.monotonic()
    cached = _BRAND_CACHE.get(slug)
    if cached is not None and cached[0] > now:
        return cached[1]
    brand = (
        Brand.objects.filter(slug=slug, is_active=True)
        .only(
            "pk",
            "slug",
            "vtex_account",
            "currency",
            "hook_token",
            "previous_hook_token",
            "previous_hook_token_expires_at",
        )
        .first()
    )
    if len(_BRAND_CACHE) > 1000:
        _BRAND_CACHE.clear()
    _BRAND_CACHE[slug] = (now + BRAND_CACHE_SECONDS, brand)
    return brand


def hook_brand_cache_clear() -> None:
    _BRAND_CACHE.clear()


def hook_token_valid(*, brand: Brand, token: str | None) -> bool:
    """The brand's current or (during a rotation's grace period) previous hook token; the rule
    and the constant-time comparison live with the brand (campaigns.services)."""
    from campaigns.services import brand_hook_token_matches

    return brand_hook_token_matches(brand, token)


def hook_event_record(
    *, brand: Brand, notification: HookNotification, payload: Mapping[str, Any], received_at: datetime | None = None
) -> HookEvent | None:
    """Store the notification once and queue its processing after commit. Returns None for a
    notification we already have (a VTEX retry): nothing is stored or queued again."""
    from orders.tasks import order_sync_task

    event = HookEvent(
        brand=brand,
        vtex_order_id=notification.order_id,
        state=notification.state,
        last_state=notification.last_state,
        domain=notification.domain,
        change_key=notification.change_key,
        changed_at=notification.changed_at,
        payload=dict(payload),
        received_at=received_at or timezone.now(),
    )
    async_commit = (
        settings.VTEX_HOOK_ASYNC_COMMIT and connection.vendor == "postgresql" and not connection.in_atomic_block
    )
    if async_commit:
        if not _hook_event_insert_async(event):
            HOOK_EVENTS_TOTAL.labels("duplicate").inc()
            return None
    else:
        # A savepoint when someone opened a transaction around us, so a duplicate cannot
        # break theirs; otherwise the INSERT is its own transaction.
        wrapper = transaction.atomic() if connection.in_atomic_block else nullcontext()
        try:
            with wrapper:
                event.save(force_insert=True)
        except IntegrityError:
            HOOK_EVENTS_TOTAL.labels("duplicate").inc()
            return None
    event_id = event.pk
    transaction.on_commit(lambda: order_sync_task.delay(event_id=event_id))
    HOOK_EVENTS_TOTAL.labels("stored").inc()
    return event


def _hook_event_insert_async(event: HookEvent) -> bool:
    """INSERT the event as one autocommit statement (one round trip instead of BEGIN, SET
    LOCAL, INSERT, COMMIT) that does not wait for the WAL flush: `set_config(...,
    is_local => true)` in RETURNING turns `synchronous_commit` off for this statement's own
    transaction, which PostgreSQL reads when it commits. A notification only says "this order
    changed", VTEX keeps the truth, and the nightly reconciliation heals the rare event a
    database crash in the next ~200 ms could lose (docs/orders.md). ON CONFLICT DO NOTHING
    makes a duplicate return no row: False. Precondition: PostgreSQL, no transaction open."""
    from django.db.models.constants import OnConflict
    from django.db.models.sql import InsertQuery

    meta = HookEvent._meta
    fields = [f for f in meta.local_concrete_fields if not f.primary_key and not f.generated]
    query = InsertQuery(HookEvent, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [event])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [meta.pk]
    [(sql, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql}, set_config('synchronous_commit', 'off', true)", params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias
    return True


def hook_event_process(
    *, event_id: int, force: bool = False, on_applied: Callable[[SyncResult], None] | None = None
) -> SyncResult | None:
    """Fetch the event's order from VTEX and reconcile it; record the outcome on the event.

    The event is claimed with one conditional UPDATE (attempts + 1, last_attempt_at = now)
    that skips a processed event, so a duplicate delivery of the task, or the sweep racing a
    retry, does nothing and the attempt count never comes from a stale read. `force` (a
    manager's reprocess) claims a processed event too. `on_applied` runs inside the order
    sync's transaction (see `order_apply`)."""
    claim = HookEvent.objects.filter(pk=event_id)
    if not force:
        claim = claim.exclude(status=HookEvent.Status.PROCESSED)
    if not claim.update(attempts=F("attempts") + 1, last_attempt_at=timezone.now()):
        return None
    event = HookEvent.objects.select_related("brand").get(pk=event_id)
    try:
        result = order_sync(
            brand=event.brand,
            vtex_order_id=event.vtex_order_id,
            source=f"hook:{event.state}",
            on_applied=on_applied,
        )
    except OrderNotInVTEX as exc:
        # A forged or mistyped id: VTEX does not know it, so there is nothing to reconcile.
        HookEvent.objects.filter(pk=event_id).update(
            status=HookEvent.Status.FAILED, last_error=str(exc)[:2000], processed_at=timezone.now()
        )
        return None
    except Exception as exc:
        HookEvent.objects.filter(pk=event_id).update(status=HookEvent.Status.PENDING, last_error=str(exc)[:2000])
        raise
    HookEvent.objects.filter(pk=event_id).update(
        status=HookEvent.Status.PROCESSED, processed_at=timezone.now(), last_error=""
    )
    return result


# --- Reconciling one order --------------------------------------------------------------------


def order_fetch(*, brand: Brand, vtex_order_id: str, client: VTEXClient | None = None) -> Mapping[str, Any]:
    """VTEX's Get order. Pass `client` to reuse one across many orders (reconciliation)."""
    client = client or VTEXClient.for_brand(brand)
    try:
        return client.order_get(vtex_order_id).raw
    except VTEXError as exc:
        if exc.status == 404:
            raise OrderNotInVTEX(
                _("VTEX does not know order %(order)s in account %(account)s.")
                % {"order": vtex_order_id, "account": brand.vtex_account}
            ) from exc
        raise


def order_sync(
    *,
    brand: Brand,
    vtex_order_id: str,
    source: str,
    force: bool = False,
    client: VTEXClient | None = None,
    on_applied: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """ "This order changed": fetch it from VTEX and make our state match."""
    data = order_fetch(brand=brand, vtex_order_id=vtex_order_id, client=client)
    return order_apply(brand=brand, data=data, source=source, force=force, on_applied=on_applied)


def order_apply(
    *,
    brand: Brand,
    data: Mapping[str, Any],
    source: str,
    force: bool = False,
    on_applied: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """Reconcile our order, lines, returns, attribution and commissions to VTEX's document.

    Holds the order's row lock for the whole reconciliation. A document older than the one we
    applied (VTEX `lastChange`) is ignored, so a slow worker never rolls the order back.
    `on_applied(result)` runs in the same transaction, whatever the outcome (the audit record
    of a reprocess commits or rolls back with what it records)."""
    with transaction.atomic():
        result = _order_apply(brand=brand, data=data, source=source, force=force)
        if on_applied is not None:
            on_applied(result)
    return result


def _order_apply(*, brand: Brand, data: Mapping[str, Any], source: str, force: bool) -> SyncResult:
    """Precondition: inside `order_apply`'s transaction (the row lock lasts until it ends)."""
    parsed = order_parse(data)
    if parsed.currency and brand.currency and parsed.currency != brand.currency:
        logger.warning(
            "order %s is in %s, brand %s uses %s", parsed.order_id, parsed.currency, brand.slug, brand.currency
        )
    digest = snapshot_hash(data)
    now = timezone.now()
    with ORDER_SYNC_SECONDS.time():
        order, _created = Order.objects.get_or_create(brand=brand, vtex_order_id=parsed.order_id)
        order = Order.objects.select_for_update(of=("self",)).select_related("brand", "code").get(pk=order.pk)
        if order.vtex_last_change and parsed.last_change and parsed.last_change < order.vtex_last_change:
            ORDER_SYNCS_TOTAL.labels("stale").inc()
            return SyncResult(order_id=order.pk, changed=False, reason="stale")
        if not force and order.snapshot_hash == digest:
            ORDER_SYNCS_TOTAL.labels("unchanged").inc()
            return SyncResult(order_id=order.pk, changed=False, reason="unchanged")
        _order_write(order=order, parsed=parsed, digest=digest, now=now, source=source)
        _lines_write(order=order, parsed=parsed)
        _returns_write(order=order, parsed=parsed)
        _attribution_write(order=order, now=now)
        _tracking_after_attribution(order=order)
        counts = commissions_sync_for_order(order=order, now=now)
        facts_changed(points=[(brand.pk, order.created_in_vtex_at)])
    ORDER_SYNCS_TOTAL.labels("applied").inc()
    return SyncResult(order_id=order.pk, changed=True, reason="applied", commissions=counts)


def _order_write(*, order: Order, parsed: OrderData, digest: str, now: datetime, source: str) -> None:
    if parsed.status != order.status:
        OrderStatusChange.objects.create(
            order=order,
            from_status=order.status,
            to_status=parsed.status,
            vtex_changed_at=parsed.last_change,
            observed_at=now,
            source=source[:20],
        )
    totals = parsed.totals
    order.order_group = parsed.order_group
    order.sequence = parsed.sequence
    order.status = parsed.status
    order.value_cents = parsed.value_cents
    order.items_cents = totals.get("Items", 0)
    order.discounts_cents = totals.get("Discounts", 0)
    order.shipping_cents = totals.get("Shipping", 0)
    order.tax_cents = totals.get("Tax", 0)
    order.currency = parsed.currency or order.brand.currency
    order.created_in_vtex_at = parsed.creation_date
    order.vtex_last_change = parsed.last_change
    order.authorized_at = parsed.authorized_date
    order.invoiced_at = parsed.invoiced_date
    if parsed.status == "canceled" and order.canceled_at is None:
        order.canceled_at = parsed.cancellation_date or parsed.last_change or now
    order.coupon = parsed.coupon
    order.promotion_id = parsed.promotion_id
    order.utm_source = parsed.utm_source
    order.utm_medium = parsed.utm_medium
    order.utm_campaign = parsed.utm_campaign
    order.snapshot = dict(parsed.raw)
    order.snapshot_hash = digest
    order.fetched_at = now
    order.processed_at = now
    order.sync_count += 1
    order.save()


_LINE_FIELDS = [
    "sku_id",
    "product_id",
    "ref_id",
    "name",
    "quantity",
    "unit_price_cents",
    "selling_price_cents",
    "total_cents",
    "coupon_discount_cents",
    "is_gift",
    "returned_quantity",
    "removed_quantity",
    "vtex_brand_id",
    "category_ids",
    "collection_ids",
]


def _lines_write(*, order: Order, parsed: OrderData) -> None:
    existing = {line.item_index: line for line in OrderLine.objects.filter(order=order)}
    to_create, to_update = [], []
    for data in parsed.lines:
        values = {
            "sku_id": data.sku_id,
            "product_id": data.product_id,
            "ref_id": data.ref_id,
            "name": data.name,
            "quantity": data.quantity,
            "unit_price_cents": data.unit_price_cents,
            "selling_price_cents": data.selling_price_cents,
            "total_cents": data.total_cents,
            "coupon_discount_cents": data.coupon_discount_cents,
            "is_gift": data.is_gift,
            "returned_quantity": data.returned_quantity,
            "removed_quantity": data.removed_quantity,
            "vtex_brand_id": data.vtex_brand_id,
            "category_ids": list(data.category_ids),
            "collection_ids": list(data.collection_ids),
        }
        line = existing.pop(data.item_index, None)
        if line is None:
            to_create.append(OrderLine(order=order, item_index=data.item_index, **values))
            continue
        if any(getattr(line, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(line, key, value)
            to_update.append(line)
    for line in existing.values():
        # A line VTEX no longer lists was taken out of the order: all its units are removed.
        if line.removed_quantity != line.quantity:
            line.removed_quantity = line.quantity
            to_update.append(line)
    if to_create:
        OrderLine.objects.bulk_create(to_create)
    if to_update:
        OrderLine.objects.bulk_update(to_update, _LINE_FIELDS)


def _returns_write(*, order: Order, parsed: OrderData) -> None:
    if not parsed.returns:
        return
    known = set(ReturnInvoice.objects.filter(order=order).values_list("invoice_number", flat=True))
    new = [
        ReturnInvoice(
            order=order,
            invoice_number=ret.invoice_number,
            value_cents=ret.value_cents,
            issued_at=ret.issued_at,
            items=[{"itemIndex": index, "quantity": quantity} for index, quantity in ret.items],
        )
        for ret in parsed.returns
        if ret.invoice_number not in known
    ]
    if new:
        ReturnInvoice.objects.bulk_create(new)


def _attribution_write(*, order: Order, now: datetime) -> None:
    """Decide attribution until a commission of the order is confirmed; after that it is
    settled money and stays as it was."""
    if Commission.objects.filter(order=order, ledger_stage=LedgerStage.CONFIRMED).exists():
        return
    decision = attribution_decide(brand=order.brand, order=order)
    newly_attributed = decision.influencer_id is not None and decision.influencer_id != order.influencer_id
    order.attribution_source = decision.source
    order.attribution_rule = decision.rule[:120]
    order.attribution_touchpoints = decision.touchpoints_json()
    order.influencer_id = decision.influencer_id
    order.campaign_id = decision.campaign_id
    order.code_id = decision.code_id
    order.attributed_at = now
    order.save(
        update_fields=[
            "attribution_source",
            "attribution_rule",
            "attribution_touchpoints",
            "influencer",
            "campaign",
            "code",
            "attributed_at",
        ]
    )
    if newly_attributed:
        events.publish(
            "order.attributed",
            brand_id=order.brand_id,
            data={
                "order_id": order.vtex_order_id,
                "influencer_id": order.influencer_id,
                "campaign_id": order.campaign_id,
                "code_id": order.code_id,
                "source": order.attribution_source,
                "rule": order.attribution_rule,
            },
        )


def _tracking_after_attribution(*, order: Order) -> None:
    """Tell tracking about the decision: bind the customer to the influencer (cross-device;
    `customer_binding_record` applies the campaign's policy) and screen the order for fraud.

    Both run in the order's transaction, before its commissions: a flag commits together with
    the order and holds its commissions from their first posting, and a rolled-back sync
    leaves neither. Each runs in a savepoint: an unexpected error in a rule is logged and
    counted and rolls back only that step, never the order sync (the next applied sync of the
    order screens it again; recording a flag is idempotent)."""
    if order.influencer_id is None:
        return
    from tracking import fraud as tracking_fraud
    from tracking import services as tracking_services
    from tracking.touchpoints import order_customer_hashes

    if order.campaign_id is not None:
        try:
            with transaction.atomic():
                tracking_services.customer_binding_record(
                    campaign=order.campaign,
                    influencer=order.influencer,
                    customer_hashes=order_customer_hashes(order),
                    order_ref=order.vtex_order_id,
                    at=order.created_in_vtex_at,
                )
        except Exception:
            TRACKING_STEP_FAILURES_TOTAL.labels("customer_binding").inc()
            logger.exception("customer binding failed for order %s", order.vtex_order_id)
    try:
        with transaction.atomic():
            tracking_fraud.fraud_screen_order(order=order)
    except Exception:
        TRACKING_STEP_FAILURES_TOTAL.labels("fraud_screen").inc()
        logger.exception("fraud screening failed for order %s; the order sync goes on", order.vtex_order_id)


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


def orders_reprocess_stored(
    *, brand: Brand | None = None, batch_size: int = 2000, progress: Any = None
) -> StoredReprocessReport:
    """Check every stored order against its stored VTEX document, without calling VTEX, and
    re-apply those whose order or lines no longer match (after a bug fix or a manual edit).

    Reads in pk batches with `values_list` (no model instances for orders that match), so it
    scales to hundreds of thousands of orders; the ones that differ go through `order_apply`."""
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
        for pk in differing:
            order = Order.objects.select_related("brand").get(pk=pk)
            order_apply(brand=order.brand, data=order.snapshot, source="reprocess", force=True)
            report.reapplied += 1
        if progress is not None:
            progress(report)
    return report
