"""Reconciling one order to what VTEX reports ("this order changed: make our state match VTEX's").

Exactly-once: the raw notification is unique on (brand, order, state, change time); the order
is unique on (brand, VTEX id) and every sync holds its row lock, so two workers on the same
order run one after the other; what they write is derived from VTEX's document (never from the
notification), so duplicates, retries, forged payloads and events out of order converge; and
the ledger postings are idempotent by reference (commissions.services.order_sync, which follows the order
through `orders.reactions`).
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.models import Influencer
from audit.services import audit_record
from brands.models import Brand
from brands.selectors import currency_rate_get
from campaigns.models import Campaign
from campaigns.selectors import campaign_assignments_read_ahead
from codes.models import Code
from codes.selectors import codes_read_ahead
from core import batching, events
from core.bulk import rows_insert, rows_update
from core.errors import ApplicationError
from core.events import facts_changed
from integrations.vtex.client import VTEXClient
from integrations.vtex.errors import VTEXError
from orders.locks import order_find_lock, order_lock, orders_find_lock_many
from orders.metrics import ORDER_SYNC_SECONDS, ORDER_SYNCS_TOTAL, TRACKING_STEP_FAILURES_TOTAL
from orders.models import Order, OrderLine, OrderStatusChange, ReturnInvoice
from orders.parsing import OrderData, order_coupon, order_creation_date, order_parse, snapshot_hash
from orders.reactions import attribution_settled, batch_prefetch, order_applied_react
from tracking import fraud as tracking_fraud
from tracking import services as tracking_services
from tracking.attribution import attribution_decide
from tracking.touchpoints import (
    bindings_read_ahead,
    conversions_read_ahead,
    document_customer_hashes,
    order_customer_hashes,
)

logger = logging.getLogger(__name__)


class OrderNotInVTEX(ApplicationError):
    default_code = "order_not_in_vtex"
    status_code = 404


@dataclass(frozen=True)
class SyncResult:
    order_id: int
    changed: bool
    reason: str  # "applied", "unchanged", "stale"
    # What each floor above did in reaction (orders.reactions), by name, for logs and benchmarks.
    reactions: Mapping[str, Mapping[str, int]] | None = None


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
    with transaction.atomic(), batching.batch_scope():
        result = _order_apply(brand=brand, data=data, source=source, force=force)
        if on_applied is not None:
            on_applied(result)
    return result


def _order_ahead_key(brand_id: int, vtex_order_id: str) -> tuple[str, int, str]:
    return ("orders.locked", brand_id, vtex_order_id)


def _lines_ahead_key(order_id: int) -> tuple[str, int]:
    return ("orders.lines", order_id)


def orders_read_ahead(*, brand: Brand, documents: Sequence[Mapping[str, Any]]) -> None:
    """Inside a batch (core.batching, orders.services.batch): lock the brand's orders among these
    documents' ids in one statement (pk order) and read their lines, their commissions
    (orders.reactions), which of their customers are bound, their conversions and which of
    them fraud holds (tracking), the codes typed as their coupons with those influencers'
    assignments (codes, campaigns), and the rest of what applying each would read alone, so
    each order's apply takes its part instead of selecting it (`_order_apply`). An id we do
    not have yet is remembered as such."""
    vtex_order_ids = [str(data.get("orderId") or "") for data in documents]
    locked = orders_find_lock_many(brand_id=brand.pk, vtex_order_ids=vtex_order_ids)
    by_vtex_id = {order.vtex_order_id: order for order in locked}
    lines: dict[int, list[OrderLine]] = {order.pk: [] for order in locked}
    for line in OrderLine.objects.filter(order__in=locked).order_by("order_id", "item_index"):
        lines[line.order_id].append(line)
    for vtex_order_id in vtex_order_ids:
        order = by_vtex_id.get(vtex_order_id)
        batching.memo_set(_order_ahead_key(brand.pk, vtex_order_id), order)
        if order is not None:
            batching.memo_set(_lines_ahead_key(order.pk), lines[order.pk])
    bindings_read_ahead(brand_id=brand.pk, documents=documents)
    conversions_read_ahead(
        brand_id=brand.pk,
        refs=[str(data.get(field) or "")[:64] for data in documents for field in ("orderId", "orderGroup")],
    )
    codes = codes_read_ahead(brand=brand, texts=[order_coupon(data)[:80] for data in documents])
    for code in codes:
        # What `_related_from_batch` hands an order attributed through this code.
        batching.memo_set(_code_key(code.pk), code)
        batching.memo_set(_campaign_key(code.campaign_id), code.campaign)
        batching.memo_set(_influencer_key(code.influencer_id), code.influencer)
    # Whom the commissions engine will be asked about: the codes' influencers in their campaigns.
    campaign_assignments_read_ahead(pairs=[(code.campaign_id, code.influencer_id) for code in codes])
    tracking_fraud.fraud_holds_read_ahead(brand_id=brand.pk, order_refs=vtex_order_ids)
    # What each order's fraud screen asks about its customer and coupon (the order's own
    # fields, as `_order_write` sets them: coupon cut to 80 characters, placed when created).
    tracking_fraud.order_signals_read_ahead(
        brand_id=brand.pk,
        customer_hashes=[hashes[0] for hashes in map(document_customer_hashes, documents) if hashes],
        coupons=[tracking_fraud.signal_coupon(order_coupon(data)[:80]) for data in documents],
        placed=[order_creation_date(data) for data in documents],
    )
    batch_prefetch(orders=locked, created=[])


def _order_apply(
    *, brand: Brand, data: Mapping[str, Any], source: str, force: bool, retried_alone: bool = False
) -> SyncResult:
    """Precondition: inside `order_apply`'s transaction (the row lock lasts until it ends).

    `retried_alone`: the caller (a batch, orders.services.batch) rolls the whole order back to
    its own savepoint when anything raises and applies it again alone, through `order_apply`.
    Its tracking steps then run without savepoints of their own (two round trips each): a step
    that fails inside the batch fails the order there, and the retry isolates it as usual."""
    parsed = order_parse(data)
    digest = snapshot_hash(data)
    now = timezone.now()
    with ORDER_SYNC_SECONDS.time():
        # A batch locked its orders ahead (orders_read_ahead); None there: not ours yet.
        ahead_key = _order_ahead_key(brand.pk, parsed.order_id)
        known_new = retried_alone and batching.memo_peek(ahead_key, _NOT_READ_AHEAD) is None
        found = batching.memo_take(ahead_key, lambda: order_find_lock(brand_id=brand.pk, vtex_order_id=parsed.order_id))
        if found is None and known_new:
            return _order_apply_new(brand=brand, parsed=parsed, digest=digest, now=now, source=source, force=force)
        if found is not None:
            order = found
        else:
            order, created = Order.objects.get_or_create(brand=brand, vtex_order_id=parsed.order_id)
            # A row this transaction inserted is nobody else's until it commits; one a concurrent
            # sync inserted first is locked like any other.
            order = order if created else order_lock(pk=order.pk)
            if created:
                # Nothing refers to a row this transaction inserted: no lines, no commissions to read.
                batching.memo_set(_lines_ahead_key(order.pk), [])
                batch_prefetch(orders=[], created=[order])
        if order.vtex_last_change and parsed.last_change and parsed.last_change < order.vtex_last_change:
            ORDER_SYNCS_TOTAL.labels("stale").inc()
            return SyncResult(order_id=order.pk, changed=False, reason="stale")
        if not force and order.snapshot_hash == digest:
            ORDER_SYNCS_TOTAL.labels("unchanged").inc()
            return SyncResult(order_id=order.pk, changed=False, reason="unchanged")
        currency_before = _order_write(order=order, parsed=parsed, digest=digest, now=now, source=source, force=force)
        _lines_write(order=order, parsed=parsed)
        _returns_write(order=order, parsed=parsed)
        newly_attributed = _attribution_write(order=order, now=now)
        # One UPDATE (and one history row) for VTEX's document and the attribution together.
        order.save()
        return _order_applied(
            order=order,
            now=now,
            currency_before=currency_before,
            newly_attributed=newly_attributed,
            isolated=not retried_alone,
        )


_NOT_READ_AHEAD = object()


def _order_apply_new(
    *, brand: Brand, parsed: OrderData, digest: str, now: datetime, source: str, force: bool
) -> SyncResult:
    """`_order_apply` of an order the batch read ahead as not ours yet, inside the batch's own
    savepoint for it (`retried_alone`): the order is built whole (VTEX's document and its
    attribution) and inserted in one statement, instead of `get_or_create`'s SELECT, savepoint,
    INSERT of an empty row and the UPDATE that fills it. A concurrent worker that inserted the
    same order since the read-ahead makes the INSERT raise IntegrityError: the batch rolls the
    order back to its savepoint and applies it again alone (`order_apply`), which finds and
    locks that row (tests/orders/test_batch_read_ahead_pg.py)."""
    order = Order(brand=brand, vtex_order_id=parsed.order_id)
    currency_before = _order_write(order=order, parsed=parsed, digest=digest, now=now, source=source, force=force)
    # A row not inserted yet has no commissions: its attribution cannot be settled.
    newly_attributed = _attribution_write(order=order, now=now, settled_check=False)
    _order_insert(order)
    # Nothing refers to a row this transaction inserted: no lines, no commissions to read.
    batching.memo_set(_lines_ahead_key(order.pk), [])
    batch_prefetch(orders=[], created=[order])
    _lines_write(order=order, parsed=parsed)
    _returns_write(order=order, parsed=parsed)
    return _order_applied(
        order=order, now=now, currency_before=currency_before, newly_attributed=newly_attributed, isolated=False
    )


def _order_applied(
    *, order: Order, now: datetime, currency_before: tuple[str, Decimal | None], newly_attributed: bool, isolated: bool
) -> SyncResult:
    """What follows once an applied order and its lines are written, whether the order was
    updated (`_order_apply`) or inserted whole (`_order_apply_new`): the currency audit, the
    attribution event, tracking, the floors above (commissions) and the reports."""
    if (order.currency_status, order.fx_rate) != currency_before:
        _currency_audit(order=order, before=currency_before)
    _related_from_batch(order)
    if newly_attributed:
        _attributed_publish(order)
    _tracking_after_attribution(order=order, isolated=isolated)
    reactions = order_applied_react(order=order, now=now)
    facts_changed(points=[(order.brand_id, order.created_in_vtex_at)])
    ORDER_SYNCS_TOTAL.labels("applied").inc()
    return SyncResult(order_id=order.pk, changed=True, reason="applied", reactions=reactions)


def _order_insert(order: Order) -> None:
    """INSERT the complete new order (one statement, without signals), then tell post_save's
    receivers (simple-history, deferred in a batch) what the single-order path tells them:
    the creation of the row `get_or_create` inserts (brand and VTEX id, every other field at
    its default) and the change that fills it, so an order keeps the same two history rows
    whichever path created it. `rows_insert` is `bulk_create` without Django's per-value
    compiler (a tenth of a new order's CPU for this one row)."""
    rows_insert([order])
    blank = Order(
        pk=order.pk,
        brand=order.brand,
        vtex_order_id=order.vtex_order_id,
        created_at=order.created_at,
        updated_at=order.created_at,
    )
    blank._state.adding, blank._state.db = False, order._state.db
    for instance, created in ((blank, True), (order, False)):
        post_save.send(
            sender=Order, instance=instance, created=created, update_fields=None, raw=False, using=order._state.db
        )


def _order_write(
    *, order: Order, parsed: OrderData, digest: str, now: datetime, source: str, force: bool
) -> tuple[str, Decimal | None]:
    """Copy VTEX's document onto the order (saved by the caller, with the attribution) and
    record a status change; returns the currency decision before, for its audit."""
    if parsed.status != order.status:
        change = OrderStatusChange(
            order=order,
            from_status=order.status,
            to_status=parsed.status,
            vtex_changed_at=parsed.last_change,
            observed_at=now,
            source=source[:20],
        )
        if not batching.defer_insert(change):  # nothing reads it back before the commit
            change.save()
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
    currency_before = (order.currency_status, order.fx_rate)
    _currency_decide(order=order, force=force)
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
    return currency_before


def _currency_decide(*, order: Order, force: bool) -> None:
    """Whether the order's money is brand money (VTEX_API_NOTES §2.1: the order's currency is
    `storePreferencesData.currencyCode`). Another currency is converted at the rate the brand
    set for it, recorded on the order and kept by later syncs, so a changed rate never reprices
    an order by itself; a manager's reprocess (`force`) reads the brand's rate again. Without a
    rate the order is held: stored and attributed, but no commission (commissions.services.order_sync)."""
    Status = Order.CurrencyStatus
    brand_currency = order.brand.currency
    if not order.currency or order.currency == brand_currency:
        order.currency_status, order.fx_rate = Status.BRAND, None
        return
    if order.currency_status == Status.CONVERTED and order.fx_rate is not None and not force:
        return
    rate = currency_rate_get(brand_id=order.brand_id, currency=order.currency)
    if rate is None:
        if order.currency_status != Status.HELD:
            logger.warning(
                "order %s is in %s, brand %s pays in %s and set no rate: held",
                order.vtex_order_id,
                order.currency,
                order.brand.slug,
                brand_currency,
            )
        order.currency_status, order.fx_rate = Status.HELD, None
    else:
        order.currency_status, order.fx_rate = Status.CONVERTED, rate


def _currency_audit(*, order: Order, before: tuple[str, Decimal | None]) -> None:
    audit_record(
        action="order.currency_held" if order.currency_held else "order.currency_checked",
        target=order,
        brand_id=order.brand_id,
        before={"currency_status": before[0], "fx_rate": None if before[1] is None else str(before[1])},
        after={
            "currency": order.currency,
            "brand_currency": order.brand.currency,
            "currency_status": order.currency_status,
            "fx_rate": None if order.fx_rate is None else str(order.fx_rate),
        },
    )


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
    existing_all: list[OrderLine] = batching.memo_take(
        _lines_ahead_key(order.pk), lambda: list(OrderLine.objects.filter(order=order))
    )
    existing = {line.item_index: line for line in existing_all}
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
        rows_insert(to_create)
    if to_update:
        rows_update(to_update, _LINE_FIELDS)
    kept = [line for line in existing_all if line.pk is not None] + [line for line in to_create if line.pk is not None]
    if len(kept) == len(existing_all) + len(to_create):
        # The order's lines as they are now, for the reactions (commissions) that read
        # `order.lines.all()` right after: no second SELECT.
        kept.sort(key=lambda line: line.item_index)
        for line in kept:
            line.order = order
        lines = OrderLine.objects.filter(order=order)
        lines._result_cache = kept
        lines._prefetch_done = True  # type: ignore[attr-defined]
        cache = getattr(order, "_prefetched_objects_cache", {})
        order._prefetched_objects_cache = {**cache, "lines": lines}  # type: ignore[attr-defined]


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


def _attribution_write(*, order: Order, now: datetime, settled_check: bool = True) -> bool:
    """Decide attribution until a commission of the order is confirmed (orders.reactions asks
    commissions); after that it is settled money and stays as it was. Sets the fields (the
    caller saves the order); returns whether the order is newly attributed to an influencer.
    `settled_check` False: the order is not inserted yet, so nothing of it is settled."""
    if settled_check and attribution_settled(order):
        return False
    decision = attribution_decide(brand=order.brand, order=order)
    newly_attributed = decision.influencer_id is not None and decision.influencer_id != order.influencer_id
    order.attribution_source = decision.source
    order.attribution_rule = decision.rule[:120]
    order.attribution_touchpoints = decision.touchpoints_json()
    order.influencer_id = decision.influencer_id
    order.campaign_id = decision.campaign_id
    order.code_id = decision.code_id
    order.link_id = decision.link_id
    order.attributed_at = now
    return newly_attributed


def _attributed_publish(order: Order) -> None:
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


def _related_from_batch(order: Order) -> None:
    """Inside a batch (core.batching), hand the order the campaign, influencer (with its user)
    and code it is attributed to from the batch's memo, so tracking and commissions do not
    select them again for every order of the same influencer."""
    if batching.current() is None:
        return
    campaign_id, influencer_id, code_id = order.campaign_id, order.influencer_id, order.code_id
    if campaign_id is not None:
        order.campaign = batching.memo(_campaign_key(campaign_id), lambda: Campaign.objects.get(pk=campaign_id))
    if influencer_id is not None:
        order.influencer = batching.memo(
            _influencer_key(influencer_id),
            lambda: Influencer.objects.select_related("user").filter(pk=influencer_id).first(),
        )
    cached = order._state.fields_cache.get("code")
    if code_id is not None and (cached is None or cached.pk != code_id):
        order.code = batching.memo(
            _code_key(code_id),
            lambda: Code.objects.select_related("campaign", "influencer", "variant").get(pk=code_id),
        )


# Memo keys shared with the floors that read the same rows in a batch: commissions.services.
# order_sync (the campaign) and notifications.handlers (the influencer with its user).
def _campaign_key(campaign_id: int) -> tuple[str, int]:
    return ("campaigns.campaign", campaign_id)


def _influencer_key(influencer_id: int) -> tuple[str, int]:
    return ("notifications.influencer", influencer_id)


def _code_key(code_id: int) -> tuple[str, int]:
    return ("codes.code", code_id)


def _tracking_after_attribution(*, order: Order, isolated: bool = True) -> None:
    """Tell tracking about the decision: bind the customer to the influencer (cross-device;
    `customer_binding_record` applies the campaign's policy) and screen the order for fraud.

    Both run in the order's transaction, before its commissions: a flag commits together with
    the order and holds its commissions from their first posting, and a rolled-back sync
    leaves neither. `isolated` (every sync of one order): each runs in a savepoint, and an
    unexpected error in a rule is logged and counted and rolls back only that step, never the
    order sync (the next applied sync of the order screens it again; recording a flag is
    idempotent). Not isolated (inside a batch, whose orders are retried alone): an error
    propagates, and the retry isolates it; so does a fraud flag a concurrent screen recorded
    first (the screen records its flags without savepoints of their own there)."""
    if order.influencer_id is None:
        return
    if order.campaign_id is not None:
        _tracking_step(
            "customer_binding",
            order,
            lambda: tracking_services.customer_binding_record(
                campaign=order.campaign,
                influencer=order.influencer,
                customer_hashes=order_customer_hashes(order),
                order_ref=order.vtex_order_id,
                at=order.created_in_vtex_at,
            ),
            isolated=isolated,
        )
    _tracking_step(
        "fraud_screen",
        order,
        lambda: tracking_fraud.fraud_screen_order(order=order, with_earlier=False, savepoints=isolated),
        isolated=isolated,
    )


_STEP_TEXT = {"customer_binding": "customer binding", "fraud_screen": "fraud screening"}


def _tracking_step(name: str, order: Order, step: Callable[[], object], *, isolated: bool) -> None:
    if not isolated:
        step()
        return
    mark = batching.checkpoint()
    try:
        with transaction.atomic():
            step()
    except Exception:
        batching.rollback_to(mark)  # what the rolled-back step deferred goes with it
        TRACKING_STEP_FAILURES_TOTAL.labels(name).inc()
        logger.exception("%s failed for order %s; the order sync goes on", _STEP_TEXT[name], order.vtex_order_id)
