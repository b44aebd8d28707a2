"""The hook's writes: the brand of a hook URL, its token, storing a notification once, and
processing one stored notification (the single-event path; batches: orders.services.batch)."""

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.utils import timezone

from brands.models import Brand
from brands.services import brand_hook_token_matches
from orders.drain import hook_drain_request
from orders.metrics import HOOK_EVENTS_TOTAL
from orders.models import HookEvent
from orders.parsing import HookNotification
from orders.services.orders import OrderNotInVTEX, SyncResult, order_sync

logger = logging.getLogger(__name__)


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
    and the constant-time comparison live with the brand (brands.services.brand_hook_token_matches)."""

    return brand_hook_token_matches(brand, token)


def hook_event_record(
    *, brand: Brand, notification: HookNotification, payload: Mapping[str, Any], received_at: datetime | None = None
) -> HookEvent | None:
    """Store the notification once and, after commit, ask for a drain of pending notifications
    (orders.drain: one Celery message per burst, not per notification). Returns None for a
    notification we already have (a VTEX retry): nothing is stored or queued again."""
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
    transaction.on_commit(hook_drain_request)
    HOOK_EVENTS_TOTAL.labels("stored").inc()
    return event


def _hook_event_insert_async(event: HookEvent) -> bool:
    """INSERT the event as one autocommit statement (one round trip instead of BEGIN, SET
    LOCAL, INSERT, COMMIT) that does not wait for the WAL flush: `set_config(...,
    is_local => true)` in RETURNING turns `synchronous_commit` off for this statement's own
    transaction, which PostgreSQL reads when it commits. A notification only says "this order
    changed", VTEX keeps the truth, and the nightly reconciliation heals the rare event a
    database crash in the next ~200 ms could lose (docs/orders.md). ON CONFLICT DO NOTHING
    makes a duplicate return no row: False. Precondition: PostgreSQL, no transaction open.

    The statement is compiled once per process (`_insert_sql`): Django's INSERT compiler costs
    ~0.3 ms of CPU, half of the INSERT's, on every notification; only the values change."""
    fields, sql = _insert_sql(connection.alias)
    params = [field.get_db_prep_save(field.pre_save(event, True), connection=connection) for field in fields]
    connection.ensure_connection()
    # Server-side binding on the driver's own cursor: Django's cursors bind on the client,
    # quoting all fourteen values in Python (~40 µs of the hook's CPU). Errors still come out
    # as Django's.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias
    return True


_INSERT_SQL: dict[str, tuple[list[Any], str]] = {}


def _insert_sql(alias: str) -> tuple[list[Any], str]:
    """The fields and SQL of `_hook_event_insert_async`'s INSERT on the `alias` database, as
    Django's compiler writes it for any event (every value a parameter, none an expression)."""
    if alias not in _INSERT_SQL:
        meta = HookEvent._meta
        fields = [f for f in meta.local_concrete_fields if not f.primary_key and not f.generated]
        query = InsertQuery(HookEvent, on_conflict=OnConflict.IGNORE)
        query.insert_values(fields, [HookEvent(received_at=timezone.now())])
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = [meta.pk]
        [(sql, _params)] = compiler.as_sql()
        _INSERT_SQL[alias] = (fields, f"{sql}, set_config('synchronous_commit', 'off', true)")
    return _INSERT_SQL[alias]


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
