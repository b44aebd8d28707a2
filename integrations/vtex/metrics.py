"""Prometheus metrics of every VTEX call, labelled by account, operation and status. The
`operation` label is our name for the call (`coupon_upsert`), never the URL, so order ids and
coupon codes do not explode the number of series."""

from prometheus_client import Counter, Histogram

VTEX_REQUEST_SECONDS = Histogram(
    "mgm_vtex_request_seconds",
    "Latency of one HTTP exchange with VTEX (each retry counts on its own).",
    ["account", "operation", "status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
)
VTEX_REQUESTS_TOTAL = Counter(
    "mgm_vtex_requests_total",
    "HTTP exchanges with VTEX, by outcome status ('error' when no answer came back).",
    ["account", "operation", "status"],
)
VTEX_RATE_LIMIT_WAIT_SECONDS = Counter(
    "mgm_vtex_rate_limit_wait_seconds_total",
    "Seconds spent waiting because of our own per-account limit or VTEX's Retry-After.",
    ["account", "reason"],
)
