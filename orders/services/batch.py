"""Hook notifications in batches: claim N pending events, fetch their orders from VTEX
concurrently, apply them in one transaction per brand, lane and batch.

- **Claim**: one `SELECT … FOR UPDATE SKIP LOCKED` of due pending events (pk order) and one
  UPDATE stamping `attempts + 1` and `last_attempt_at`. A claimed event is leased for
  `ORDERS_BATCH_LEASE_SECONDS`: another worker skips it until then, and a worker that dies
  leaves it pending, so it is claimed again when the lease ends (never lost, never applied
  twice: effects are idempotent by the order's row lock, snapshot hash and ledger references).
- **Fetch**: every distinct order of the batch once, on a thread pool over the one pooled HTTP
  session (`integrations.vtex.client`), each read taking a token from its brand's VTEX order
  read budget (`integrations.vtex.ratelimit.order_read_limiter`, in Redis, shared by every
  worker). A 429 beyond the client's own wait leaves the event pending until VTEX's
  `Retry-After` has passed; a 5xx or a timeout, until the lease ends; a 404 marks it failed.
  The drain (`hook_events_drain`, what the task runs) claims the next batch and starts its
  reads before it applies the current one, so the reads overlap the apply.
- **Apply**: one transaction per brand, lane and batch; each order in its own savepoint. An
  order whose apply raises is rolled back to its savepoint (the others go on) and retried alone
  in its own transaction after the batch commits; if it fails again its events stay pending with
  the error. A batch whose transaction fails as a whole is applied again in halves, down to
  single orders. The processed events are marked in the batch's transaction, so they commit
  with the effects.
- **Lanes**: a brand's orders are split into `ORDERS_APPLY_LANES` lanes by the influencer they
  belong to (the one already attributed, else the coupon's, else by customer), and each lane
  applies one batch at a time (a transaction-scoped advisory lock on brand and lane). So
  several workers apply one brand at once while an influencer's ledger accounts, referral
  rows and fraud flags are written by one lane at a time; the batch's accruals lock every
  account they need in one go, in pk order, at its end (commissions.postings). Correctness
  never rests on the lanes (every effect is idempotent under the order's row lock): an order
  whose attribution the guess got wrong at worst makes two batches wait for each other, and
  if PostgreSQL finds a deadlock it aborts one, whose orders are then applied one by one.
"""

import logging
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from brands.models import Brand
from codes.models import Code
from codes.services.text import code_text_normalize
from core import batching
from integrations.vtex.client import VTEXClient
from integrations.vtex.errors import VTEXRateLimited
from integrations.vtex.ratelimit import order_read_limiter
from orders.locks import hook_events_due_lock
from orders.models import HookEvent, Order
from orders.parsing import order_last_change
from orders.services.orders import (
    OrderNotInVTEX,
    SyncResult,
    _order_apply,
    order_apply,
    order_fetch,
    orders_read_ahead,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
_APPLY_LOCK_NAMESPACE = 1717_000  # pg_advisory_xact_lock(namespace + lane, brand id)


@dataclass
class BatchReport:
    claimed: int = 0
    orders: int = 0
    applied: int = 0
    unchanged: int = 0
    not_in_vtex: int = 0
    retried_alone: int = 0
    left_pending: int = 0
    errors: list[str] = field(default_factory=list)


def hook_events_claim(*, limit: int, now: datetime | None = None) -> list[HookEvent]:
    """Lease up to `limit` due pending events (pk order) to the caller. Safe under concurrency:
    rows another worker is claiming are skipped, not waited for."""
    now = now or timezone.now()
    lease = timedelta(seconds=float(settings.ORDERS_BATCH_LEASE_SECONDS))
    due = Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=now - lease)
    with transaction.atomic():
        ids = hook_events_due_lock(due=due, max_attempts=MAX_ATTEMPTS, limit=limit)
        if ids:
            HookEvent.objects.filter(pk__in=ids).update(attempts=F("attempts") + 1, last_attempt_at=now)
    return list(HookEvent.objects.filter(pk__in=ids).select_related("brand").order_by("pk"))


def _batch_client(brand: Brand) -> VTEXClient:
    client = VTEXClient.for_brand(brand, limiter=order_read_limiter(brand=brand))
    # A batch must not sit out a long 429 storm for one order: give the event back instead.
    client.retry_after_max_wait = min(client.retry_after_max_wait, float(settings.ORDERS_BATCH_RETRY_AFTER_MAX_WAIT))
    return client


def _fetch_pool() -> ThreadPoolExecutor:
    """The threads that read orders from VTEX (threads start as work arrives, up to the limit)."""
    return ThreadPoolExecutor(
        max_workers=max(1, int(settings.ORDERS_FETCH_CONCURRENCY)), thread_name_prefix="vtex-fetch"
    )


def orders_fetch_start(
    *, brands: Mapping[int, Brand], keys: Sequence[tuple[int, str]], pool: ThreadPoolExecutor
) -> dict[tuple[int, str], "Future[Mapping[str, Any] | Exception]"]:
    """Start VTEX's Get order for every (brand id, order id) on `pool` and return at once; each
    future gives the document or the exception. No database access in the threads (clients,
    with their decrypted credentials, are built here first)."""
    clients = {brand_id: _batch_client(brand) for brand_id, brand in brands.items()}

    def fetch(key: tuple[int, str]) -> Mapping[str, Any] | Exception:
        try:
            return order_fetch(brand=brands[key[0]], vtex_order_id=key[1], client=clients[key[0]])
        except Exception as exc:
            return exc

    return {key: pool.submit(fetch, key) for key in keys}


def _fetched(
    futures: Mapping[tuple[int, str], "Future[Mapping[str, Any] | Exception]"],
) -> dict[tuple[int, str], Mapping[str, Any] | Exception]:
    return {key: future.result() for key, future in futures.items()}


class BrandBusy(Exception):
    """Another worker is applying a batch of this brand's lane (`orders_apply_batch(wait=False)`)."""


def _brand_apply_lock(brand: Brand, *, lane: int, wait: bool) -> bool:
    """The lane's turn to apply, until the transaction ends; without `wait`, False at once
    when another worker has it."""
    if connection.vendor != "postgresql":
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [_APPLY_LOCK_NAMESPACE + lane, brand.pk])
        return bool(wait or cursor.fetchone()[0])


def _customer_key(data: Mapping[str, Any]) -> str:
    profile = data.get("clientProfileData") or {}
    return str(profile.get("userProfileId") or profile.get("email") or data.get("orderId") or "")


def orders_by_lane[T](
    *, brand: Brand, documents: Sequence[tuple[Mapping[str, Any], T]]
) -> dict[int, list[tuple[Mapping[str, Any], T]]]:
    """Split one brand's VTEX documents into its apply lanes by the influencer each order
    belongs to: the one it is attributed to already, else the one whose code is its coupon,
    else (no influencer known yet) by customer. Two queries for the whole batch; lane numbers
    are stable across processes (no `hash()`, which Python salts per process)."""
    lanes = max(1, int(settings.ORDERS_APPLY_LANES))
    if lanes == 1:
        return {0: list(documents)} if documents else {}
    order_ids = [str(data.get("orderId") or "") for data, _extra in documents]
    attributed = dict(
        Order.objects.filter(brand=brand, vtex_order_id__in=order_ids, influencer_id__isnull=False).values_list(
            "vtex_order_id", "influencer_id"
        )
    )
    # Codes are stored normalised; shoppers type them as they like.
    coupons = [
        code_text_normalize(str((data.get("marketingData") or {}).get("coupon") or "")) for data, _extra in documents
    ]
    by_code = dict(
        Code.objects.filter(brand=brand, text__in={coupon for coupon in coupons if coupon}).values_list(
            "text", "influencer_id"
        )
    )
    split: dict[int, list[tuple[Mapping[str, Any], T]]] = {}
    for (data, extra), order_id, coupon in zip(documents, order_ids, coupons, strict=True):
        influencer_id = attributed.get(order_id) or by_code.get(coupon)
        if influencer_id is not None:
            lane = int(influencer_id) % lanes
        else:
            lane = zlib.crc32(_customer_key(data).encode()) % lanes
        split.setdefault(lane, []).append((data, extra))
    return split


def orders_apply_batch(
    *,
    brand: Brand,
    documents: Sequence[tuple[Mapping[str, Any], str]],
    force: bool = False,
    on_applied: Callable[[dict[str, SyncResult]], None] | None = None,
    committed: set[str] | None = None,
    wait: bool = True,
    lane: int = 0,
) -> dict[str, SyncResult | Exception]:
    """Apply VTEX order documents of one brand's lane ((document, source) pairs, split by
    `orders_by_lane`) in one transaction, each order in a savepoint. `on_applied(results)`
    runs inside that transaction with the orders applied there, and `committed` (when given)
    receives their ids once it commits. An order that raised is then retried alone
    (`order_apply`, its own transaction). A batch whose transaction fails as a whole (what it
    defers to its end, such as the ledger accruals, failed, or PostgreSQL chose it as a
    deadlock's victim) is applied again as two halves, each in its own transaction, and so on
    down to single orders retried alone: one order that breaks the batch's end costs about
    three batches, not one transaction per order. An order given twice is applied once, from
    the document VTEX changed last. The answer maps each VTEX order id to its result or to the
    retry's error. Batches of one lane take turns; without `wait`, BrandBusy is raised (and
    nothing done) when another worker has the lane's turn."""
    results: dict[str, SyncResult | Exception] = {}
    alone: list[tuple[Mapping[str, Any], str]] = []
    parts = [_latest_per_order(documents)]
    first = True
    while parts:
        part = parts.pop(0)
        if not first and len(part) == 1:
            alone.extend(part)
            continue
        try:
            applied, failed = _batch_transaction(
                brand=brand, ordered=part, force=force, on_applied=on_applied, wait=wait or not first, lane=lane
            )
        except BrandBusy:
            raise
        except Exception:
            logger.exception(
                "a batch of %s orders of brand %s failed as a whole; applying it again in halves", len(part), brand.pk
            )
            half = len(part) // 2
            parts[:0] = [part[:half], part[half:]] if half else [part]
        else:
            results.update(applied)
            if committed is not None:
                committed.update(applied)
            alone.extend(failed)
        first = False
    for data, source in alone:
        order_id = str(data.get("orderId") or "")
        try:
            results[order_id] = order_apply(brand=brand, data=data, source=source, force=force)
        except Exception as exc:
            logger.exception("order %s failed alone too; left for a later attempt", order_id)
            results[order_id] = exc
    return results


def _latest_per_order(documents: Sequence[tuple[Mapping[str, Any], str]]) -> list[tuple[Mapping[str, Any], str]]:
    """One document per order, the one VTEX changed last (the later one given on a tie), in
    order id order. Applying an older one first would change nothing the newer one does not
    (the order converges on its latest document), and one batch cannot write an order twice."""
    latest: dict[str, tuple[Mapping[str, Any], str]] = {}
    for data, source in documents:
        order_id = str(data.get("orderId") or "")
        kept = latest.get(order_id)
        if kept is not None:
            changed, kept_changed = order_last_change(data), order_last_change(kept[0])
            if changed is None or (kept_changed is not None and changed < kept_changed):
                continue
        latest[order_id] = (data, source)
    return [latest[order_id] for order_id in sorted(latest)]


def _batch_transaction(
    *,
    brand: Brand,
    ordered: Sequence[tuple[Mapping[str, Any], str]],
    force: bool,
    on_applied: Callable[[dict[str, SyncResult]], None] | None,
    wait: bool,
    lane: int,
) -> tuple[dict[str, SyncResult], list[tuple[Mapping[str, Any], str]]]:
    """One transaction of `orders_apply_batch`: what it applied, and the orders that raised
    (rolled back to their savepoints, for a retry alone). Raises when the transaction fails."""
    failed: list[tuple[Mapping[str, Any], str]] = []
    with transaction.atomic(), batching.batch_scope():
        if not _brand_apply_lock(brand, lane=lane, wait=wait):
            raise BrandBusy(brand.pk)
        orders_read_ahead(brand=brand, documents=[data for data, _ in ordered])
        applied: dict[str, SyncResult] = {}
        for data, source in ordered:
            order_id = str(data.get("orderId") or "")
            mark = batching.checkpoint()
            try:
                with transaction.atomic():
                    applied[order_id] = _order_apply(
                        brand=brand, data=data, source=source, force=force, retried_alone=True
                    )
            except Exception as exc:
                batching.rollback_to(mark)  # its deferred rows and every memo go with its savepoint
                logger.warning("order %s failed in its batch (%s); retrying it alone", order_id, exc)
                failed.append((data, source))
        if on_applied is not None:
            on_applied(applied)
    return applied, failed


def _release(event_ids: Sequence[int], *, error: str, retry_in: float | None = None) -> None:
    """Give events back: pending, with the error. `retry_in` seconds (VTEX's Retry-After) moves
    the lease so the next claim waits that long; without it the normal lease applies."""
    values: dict[str, Any] = {"status": HookEvent.Status.PENDING, "last_error": error[:2000]}
    if retry_in is not None:
        lease = float(settings.ORDERS_BATCH_LEASE_SECONDS)
        values["last_attempt_at"] = timezone.now() + timedelta(seconds=retry_in - lease)
    HookEvent.objects.filter(pk__in=event_ids).update(**values)


def _mark_processed(event_ids: Sequence[int]) -> None:
    HookEvent.objects.filter(pk__in=event_ids).update(
        status=HookEvent.Status.PROCESSED, processed_at=timezone.now(), last_error=""
    )


@dataclass
class ClaimedBatch:
    """Events claimed by one worker, grouped by order, with their orders' VTEX reads under way."""

    events: list[HookEvent]
    by_order: dict[tuple[int, str], list[HookEvent]]
    brands: dict[int, Brand]
    fetching: dict[tuple[int, str], "Future[Mapping[str, Any] | Exception]"]


def _claim_and_fetch(*, limit: int, pool: ThreadPoolExecutor) -> ClaimedBatch:
    events = hook_events_claim(limit=limit)
    by_order: dict[tuple[int, str], list[HookEvent]] = {}
    brands: dict[int, Brand] = {}
    for event in events:
        by_order.setdefault((event.brand_id, event.vtex_order_id), []).append(event)
        brands[event.brand_id] = event.brand
    fetching = orders_fetch_start(brands=brands, keys=list(by_order), pool=pool) if by_order else {}
    return ClaimedBatch(events=events, by_order=by_order, brands=brands, fetching=fetching)


def hook_events_process_batch(*, limit: int | None = None) -> BatchReport:
    """Claim up to `limit` (default ORDERS_BATCH_SIZE) pending notifications and bring their
    orders to VTEX's current state (see the module docstring)."""
    with _fetch_pool() as pool:
        return _batch_settle(_claim_and_fetch(limit=limit or int(settings.ORDERS_BATCH_SIZE), pool=pool))


def hook_events_drain(*, limit: int | None = None, max_seconds: float) -> int:
    """`hook_events_process_batch` again and again until a claim comes back short of `limit`
    or `max_seconds` have passed; returns how many events were claimed. While one batch is
    applied, the next one is already claimed and its orders read from VTEX on the fetch
    threads: a worker's main thread otherwise waited for VTEX for a fifth of its time. The
    next batch's lease (ORDERS_BATCH_LEASE_SECONDS) starts at its claim, one batch early."""
    size = limit or int(settings.ORDERS_BATCH_SIZE)
    deadline = time.monotonic() + max_seconds
    claimed = 0
    with _fetch_pool() as pool:
        batch = _claim_and_fetch(limit=size, pool=pool)
        while batch.events:
            claimed += len(batch.events)
            more = len(batch.events) == size and time.monotonic() < deadline
            ahead = _claim_and_fetch(limit=size, pool=pool) if more else None
            _batch_settle(batch)
            if ahead is None:
                break
            batch = ahead
    return claimed


def _batch_settle(batch: ClaimedBatch) -> BatchReport:
    """Wait for a claimed batch's VTEX reads, then apply its orders and settle its events."""
    report = BatchReport(claimed=len(batch.events), orders=len(batch.by_order))
    if not batch.events:
        return report
    by_order, brands = batch.by_order, batch.brands
    fetched = _fetched(batch.fetching)

    documents: dict[int, list[tuple[Mapping[str, Any], str]]] = {}
    for key, outcome in fetched.items():
        ids = [event.pk for event in by_order[key]]
        if isinstance(outcome, OrderNotInVTEX):
            # A forged or mistyped id: VTEX does not know it, there is nothing to reconcile.
            HookEvent.objects.filter(pk__in=ids).update(
                status=HookEvent.Status.FAILED, last_error=str(outcome)[:2000], processed_at=timezone.now()
            )
            report.not_in_vtex += 1
        elif isinstance(outcome, Exception):
            retry_in = outcome.retry_after if isinstance(outcome, VTEXRateLimited) else None
            _release(ids, error=str(outcome), retry_in=retry_in)
            report.left_pending += 1
            report.errors.append(f"{key[1]}: {outcome}")
        else:
            latest = max(by_order[key], key=lambda event: event.pk)
            documents.setdefault(key[0], []).append((outcome, f"hook:{latest.state}"))

    # A lane another worker is applying right now is put off while this batch has other lanes
    # to apply; once only busy ones are left, the first is waited for.
    pending = [
        (brand_id, lane, docs)
        for brand_id, brand_docs in documents.items()
        for lane, docs in sorted(orders_by_lane(brand=brands[brand_id], documents=brand_docs).items())
    ]
    while pending:
        busy: list[tuple[int, int, list[tuple[Mapping[str, Any], str]]]] = []
        for brand_id, lane, docs in pending:
            if not _brand_batch_apply(
                brand=brands[brand_id], lane=lane, docs=docs, by_order=by_order, report=report, wait=False
            ):
                busy.append((brand_id, lane, docs))
        if busy:
            (brand_id, lane, docs), pending = busy[0], busy[1:]
            _brand_batch_apply(
                brand=brands[brand_id], lane=lane, docs=docs, by_order=by_order, report=report, wait=True
            )
        else:
            pending = []
    return report


def _brand_batch_apply(
    *,
    brand: Brand,
    lane: int,
    docs: list[tuple[Mapping[str, Any], str]],
    by_order: Mapping[tuple[int, str], list[HookEvent]],
    report: BatchReport,
    wait: bool,
) -> bool:
    """Apply one brand lane's documents of the batch and settle their events; False (nothing
    done) when `wait` is off and another worker holds the lane's turn."""
    in_batch: set[str] = set()

    def mark(applied: dict[str, SyncResult]) -> None:
        _mark_processed([event.pk for oid in applied for event in by_order[(brand.pk, oid)]])

    try:
        results = orders_apply_batch(
            brand=brand, documents=docs, on_applied=mark, committed=in_batch, wait=wait, lane=lane
        )
    except BrandBusy:
        return False
    alone_ok: list[int] = []
    for order_id, result in results.items():
        ids = [event.pk for event in by_order[(brand.pk, order_id)]]
        if isinstance(result, Exception):
            _release(ids, error=str(result))
            report.left_pending += 1
            report.errors.append(f"{order_id}: {result}")
            continue
        if result.reason == "applied":
            report.applied += 1
        else:
            report.unchanged += 1
        if order_id in in_batch:
            continue
        alone_ok.extend(ids)
        report.retried_alone += 1
    if alone_ok:
        _mark_processed(alone_ok)
    return True
