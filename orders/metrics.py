"""Prometheus metrics of the orders flow (scraped at /metrics)."""

from prometheus_client import Counter, Histogram

HOOK_EVENTS_TOTAL = Counter("mgm_vtex_hook_events_total", "VTEX order notifications by outcome", ["outcome"])
HOOK_REJECTED_TOTAL = Counter("mgm_vtex_hook_rejected_total", "VTEX order notifications refused, by reason", ["reason"])
ORDER_SYNCS_TOTAL = Counter("mgm_order_syncs_total", "Order reconciliations by result", ["result"])
ORDER_SYNC_SECONDS = Histogram("mgm_order_sync_seconds", "Time to reconcile one order (database part)")
TRACKING_STEP_FAILURES_TOTAL = Counter(
    "mgm_order_tracking_step_failures_total",
    "Order syncs where a tracking step (customer binding, fraud screening) raised and was skipped",
    ["step"],
)
