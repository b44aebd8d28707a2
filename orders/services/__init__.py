"""Writes of the orders context, one module per sub-entity:

- `hooks`: the hook's brand and token, storing a notification once, processing one notification;
- `orders`: reconciling one order to VTEX's document (fetch, apply, lines, returns, attribution);
- `batch`: claiming pending notifications in batches, fetching their orders concurrently and
  applying them in one transaction per batch (a bad order is retried alone);
- `reprocess`: a manager's reprocess and the check of every stored order (in one process, or
  planned in chunks the workers re-apply).

Exactly-once: the raw notification is unique on (brand, order, state, change time); the order
is unique on (brand, VTEX id) and every sync holds its row lock, so two workers on the same
order run one after the other; what they write is derived from VTEX's document (never from the
notification), so duplicates, retries, forged payloads and events out of order converge; and
the ledger postings are idempotent by reference (commissions.services.ledger).
"""

from orders.services.batch import (
    BatchReport,
    hook_events_claim,
    hook_events_drain,
    hook_events_process_batch,
    orders_apply_batch,
)
from orders.services.hooks import (
    hook_brand_cache_clear,
    hook_brand_get,
    hook_event_process,
    hook_event_record,
    hook_token_valid,
)
from orders.services.orders import OrderNotInVTEX, SyncResult, order_apply, order_fetch, order_sync
from orders.services.reprocess import (
    ReprocessChunk,
    StoredReprocessReport,
    hook_event_reprocess,
    order_reprocess,
    orders_reprocess_chunk,
    orders_reprocess_plan,
    orders_reprocess_stored,
)

__all__ = [
    "BatchReport",
    "OrderNotInVTEX",
    "ReprocessChunk",
    "StoredReprocessReport",
    "SyncResult",
    "hook_brand_cache_clear",
    "hook_brand_get",
    "hook_event_process",
    "hook_event_record",
    "hook_event_reprocess",
    "hook_events_claim",
    "hook_events_drain",
    "hook_events_process_batch",
    "hook_token_valid",
    "order_apply",
    "order_fetch",
    "order_reprocess",
    "order_sync",
    "orders_apply_batch",
    "orders_reprocess_chunk",
    "orders_reprocess_plan",
    "orders_reprocess_stored",
]
