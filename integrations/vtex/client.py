"""The one client for every VTEX call.

Policy (see docs/decisions/0017-vtex-client-and-coupon-sync.md):
- Base URL: settings.VTEX_API_BASE_URL when set (local fakes), else
  https://{account}.{environment}.com.br. Auth with X-VTEX-API-AppKey / X-VTEX-API-AppToken.
- Connect and read timeouts on every request.
- Connection errors, timeouts and 5xx: retried with exponential backoff and jitter, up to
  VTEX_MAX_ATTEMPTS, then `VTEXUnavailable`. Every operation here is idempotent on VTEX's side
  (coupon POST is an upsert by code, archive/unarchive are idempotent, GETs are reads), so a
  retry after a timeout cannot create a duplicate.
- 429: wait for Retry-After (or the backoff when VTEX gives none) and try again, while the total
  time waited stays under VTEX_RETRY_AFTER_MAX_WAIT; then `VTEXRateLimited`, so a task can be
  rescheduled instead of holding a worker.
- Any other 4xx: not retried; `VTEXError` carrying VTEX's own message, whatever the body shape.
- Before each request, our per-account budget (integrations.vtex.ratelimit), shared by workers.
- Every exchange is logged (never the token) and measured (integrations.vtex.metrics).
"""

import functools
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote

import requests
import requests.adapters
import requests.auth
from django.conf import settings
from django.utils.translation import gettext as _

from core.backoff import backoff_seconds
from integrations.vtex.errors import VTEXCredentialsMissing, VTEXError, VTEXRateLimited, VTEXUnavailable
from integrations.vtex.metrics import VTEX_RATE_LIMIT_WAIT_SECONDS, VTEX_REQUEST_SECONDS, VTEX_REQUESTS_TOTAL
from integrations.vtex.ratelimit import RateLimiter, rate_limiter
from integrations.vtex.types import Coupon, CouponUsage, HookConfig, Order, OrderPage, OrderSummary

logger = logging.getLogger(__name__)

LIST_ORDERS_MAX_PAGE = 30  # VTEX serves at most 30 pages of List orders
LIST_ORDERS_MAX_PER_PAGE = 100
DEFAULT_HOOK_STATUSES = ("payment-approved", "invoiced", "cancel", "canceled")


class VTEXAccount(Protocol):
    """What the client needs of a brand (brands.Brand fits): integrations sit below the
    domain and take this shape rather than the model."""

    vtex_account: str
    vtex_environment: str
    vtex_app_key: str
    vtex_app_token: str


def vtex_base_url(*, account: str, environment: str) -> str:
    override = settings.VTEX_API_BASE_URL
    if override:
        return override.rstrip("/")
    return f"https://{account}.{environment}.com.br"


def vtex_error_message(response: requests.Response) -> str:
    """What VTEX said, from any of its error shapes: OMS `{"error": {"code", "message"}}`,
    problem+json `{"title", "detail"}`, ASP.NET validation `{"error": {"field": [..]}, "title"}`,
    a bare JSON string, plain text, or nothing at all."""
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] if text else (response.reason or "")
    message = _message_from(data)
    return message[:1000] if message else (response.reason or "")


def _message_from(data: Any) -> str:
    if isinstance(data, str):
        return data.strip()
    if isinstance(data, list):
        return "; ".join(part for part in (_message_from(item) for item in data) if part)
    if not isinstance(data, Mapping):
        return "" if data is None else str(data)
    parts: list[str] = []
    error = data.get("error")
    if isinstance(error, Mapping):
        if error.get("message"):
            code = error.get("code")
            message = str(error["message"])
            parts.append(f"{message} ({code})" if code and str(code) not in message else message)
        else:
            parts.extend(_field_errors(error))
    elif isinstance(error, str) and error:
        parts.append(error)
    for key in ("title", "detail", "message", "Message"):
        value = data.get(key)
        if isinstance(value, str) and value and value not in parts:
            if key == "title":
                parts.insert(0, value)
            else:
                parts.append(value)
    errors = data.get("errors")
    if isinstance(errors, Mapping):
        parts.extend(_field_errors(errors))
    return " ".join(parts).strip()


def _field_errors(errors: Mapping[str, Any]) -> list[str]:
    parts = []
    for field_name, messages in errors.items():
        texts = messages if isinstance(messages, list) else [messages]
        for text in texts:
            parts.append(f"{field_name}: {text}" if field_name else str(text))
    return parts


def _retry_after_seconds(value: str | None, *, now: Callable[[], datetime]) -> float | None:
    """Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def _shared_session() -> requests.Session:
    """One pooled session per process, with room for the batch fetch's concurrent reads
    (requests' default pool keeps 10 connections per host and drops the rest). Made on first
    use in each process: a Celery prefork child never inherits its parent's sockets."""
    return _session_for_process(os.getpid())


class _HeadersOnly(requests.auth.AuthBase):
    """VTEX's credentials travel in the AppKey/AppToken headers and nowhere else. Set as the
    session's auth so requests never looks up ~/.netrc for the host (a read of the file system
    on every request, and a Basic Authorization header VTEX must not be sent)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


@functools.cache
def _session_for_process(pid: int) -> requests.Session:
    session = requests.Session()
    session.auth = _HeadersOnly()
    size = int(settings.VTEX_HTTP_POOL_SIZE)
    adapter = requests.adapters.HTTPAdapter(pool_connections=size, pool_maxsize=size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class VTEXClient:
    def __init__(
        self,
        *,
        account: str,
        environment: str = "vtexcommercestable",
        app_key: str,
        app_token: str,
        base_url: str | None = None,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        orders_pii: bool = False,
    ) -> None:
        self.account = account
        self.orders_pii = orders_pii
        self.base_url = (base_url or vtex_base_url(account=account, environment=environment)).rstrip("/")
        self._app_key = app_key
        self._app_token = app_token
        # One pooled session per process: keep-alive connections to VTEX across calls and brands.
        self._session = session or _shared_session()
        self._limiter = limiter or rate_limiter()
        self._sleep = sleep
        self.connect_timeout = float(settings.VTEX_CONNECT_TIMEOUT)
        self.read_timeout = float(settings.VTEX_READ_TIMEOUT)
        self.max_attempts = int(settings.VTEX_MAX_ATTEMPTS)
        self.backoff_base = float(settings.VTEX_BACKOFF_BASE_SECONDS)
        self.backoff_cap = float(settings.VTEX_BACKOFF_MAX_SECONDS)
        self.retry_after_max_wait = float(settings.VTEX_RETRY_AFTER_MAX_WAIT)

    @classmethod
    def for_brand(cls, brand: VTEXAccount, **kwargs: Any) -> "VTEXClient":
        return cls(
            account=brand.vtex_account,
            environment=brand.vtex_environment,
            app_key=brand.vtex_app_key or "",
            app_token=brand.vtex_app_token or "",
            orders_pii=bool(getattr(brand, "vtex_data_protection_plus", False)),
            **kwargs,
        )

    def __repr__(self) -> str:  # never shows the token
        return f"<VTEXClient account={self.account} base_url={self.base_url}>"

    # --- Coupons ----------------------------------------------------------------------------

    def coupon_upsert(
        self,
        *,
        code: str,
        utm_source: str,
        utm_campaign: str = "",
        is_archived: bool = False,
        max_items_per_client: int = 0,
        expiration_interval_per_use: str = "00:00:00",
        max_usage: int | None = None,
        edit: bool = False,
    ) -> Coupon:
        """Create or update the coupon `code` (VTEX's POST is an upsert by code).

        `edit=True` (a coupon VTEX already has) follows VTEX's documented update: read the
        coupon, change our fields in the complete body it returned and send that whole body back,
        so whatever else the brand or VTEX set on it (fields we do not manage, or ones added
        later) is kept. A coupon VTEX turns out not to know is created."""
        current = self._coupon_raw(code) if edit else None
        body: dict[str, Any] = dict(current) if current else {}
        body |= {
            "utmSource": utm_source,
            "utmCampaign": utm_campaign,
            "couponCode": code,
            "isArchived": is_archived,
            "maxItemsPerClient": max_items_per_client,
            "expirationIntervalPerUse": expiration_interval_per_use,
        }
        if max_usage is not None:
            body["maxUsage"] = max_usage
        data = self._request("POST", "/api/rnb/pvt/coupon", operation="coupon_upsert", json=body)
        return Coupon.from_json(data if isinstance(data, Mapping) else body)

    def _coupon_raw(self, code: str) -> Mapping[str, Any] | None:
        """The coupon exactly as VTEX returns it, or None when VTEX does not know it."""
        try:
            data = self._request("GET", f"/api/rnb/pvt/coupon/{_segment(code)}", operation="coupon_get")
        except VTEXError as exc:
            if exc.status == 404:
                return None
            raise
        return data if isinstance(data, Mapping) and data else None

    def coupon_get(self, code: str) -> Coupon | None:
        data = self._coupon_raw(code)
        return Coupon.from_json(data) if data else None

    def coupon_archive(self, code: str) -> None:
        self._request("POST", f"/api/rnb/pvt/archive/coupon/{_segment(code)}", operation="coupon_archive")

    def coupon_unarchive(self, code: str) -> None:
        self._request("POST", f"/api/rnb/pvt/unarchive/coupon/{_segment(code)}", operation="coupon_unarchive")

    def coupon_usage(self, code: str) -> CouponUsage:
        """Orders that used the coupon, per shopper profile."""
        data = self._request("GET", f"/api/rnb/pvt/coupon/usage/{_segment(code)}", operation="coupon_usage")
        if not data:
            return CouponUsage(code=code, uses=())
        return CouponUsage.from_json(data, code=code)

    def coupon_usage_count(self, code: str) -> int:
        """Times the coupon was used (Promotions v2 answers a bare integer)."""
        data = self._request(
            "GET", f"/api/rnb/v2/pvt/coupon/usage-count/{_segment(code)}", operation="coupon_usage_count"
        )
        try:
            return int(data or 0)
        except (TypeError, ValueError) as exc:
            raise VTEXError(
                _("VTEX sent a usage count we could not read: %(value)r") % {"value": data}, code="vtex_bad_response"
            ) from exc

    # --- Orders -----------------------------------------------------------------------------

    def order_get(self, order_id: str) -> Order:
        # Stores on VTEX's Data Protection Plus are read through the PII version of the Orders
        # API; the answer has the same shape.
        path = "/api/orders/pvt/document/" if self.orders_pii else "/api/oms/pvt/orders/"
        data = self._request("GET", f"{path}{_segment(order_id)}", operation="order_get")
        return Order.from_json(data)

    def orders_list(
        self,
        *,
        created_from: datetime,
        created_to: datetime,
        status: str | None = None,
        page: int = 1,
        per_page: int = LIST_ORDERS_MAX_PER_PAGE,
        order_by: str = "creationDate,asc",
        extra: Mapping[str, str] | None = None,
    ) -> OrderPage:
        """One page of List orders created in [created_from, created_to] (aware datetimes)."""
        if not 1 <= page <= LIST_ORDERS_MAX_PAGE:
            raise ValueError(f"VTEX serves pages 1..{LIST_ORDERS_MAX_PAGE} of List orders, not {page}")
        params: dict[str, str] = {
            "f_creationDate": f"creationDate:[{_vtex_instant(created_from)} TO {_vtex_instant(created_to)}]",
            "page": str(page),
            "per_page": str(min(max(per_page, 1), LIST_ORDERS_MAX_PER_PAGE)),
            "orderBy": order_by,
        }
        if status:
            params["f_status"] = status
        params.update(extra or {})
        data = self._request("GET", "/api/oms/pvt/orders", operation="orders_list", params=params)
        return OrderPage.from_json(data)

    def orders_iter(
        self, *, created_from: datetime, created_to: datetime, status: str | None = None, per_page: int = 100
    ) -> Iterator[OrderSummary]:
        """Every order of the window, page after page (at most 30 pages: split windows that
        hold more than 3000 orders; `OrderPage.total` tells you)."""
        page = 1
        while True:
            result = self.orders_list(
                created_from=created_from, created_to=created_to, status=status, page=page, per_page=per_page
            )
            yield from result.orders
            if page >= min(result.pages, LIST_ORDERS_MAX_PAGE) or not result.orders:
                return
            page += 1

    # --- Orders hook ------------------------------------------------------------------------

    def hook_config_get(self) -> HookConfig | None:
        try:
            data = self._request("GET", "/api/orders/hook/config", operation="hook_config_get")
        except VTEXError as exc:
            if exc.status == 404:
                return None
            raise
        return HookConfig.from_json(data)

    def hook_config_set(
        self, *, url: str, headers: Mapping[str, str], statuses: Sequence[str] = DEFAULT_HOOK_STATUSES
    ) -> None:
        """Point the account's order hook at `url`, sending `headers` (our shared secret) on every
        notification. VTEX pings the URL before saving and answers 400 if the ping fails."""
        body = {
            "filter": {"type": "FromWorkflow", "status": list(statuses)},
            "hook": {"url": url, "headers": dict(headers)},
        }
        self._request("POST", "/api/orders/hook/config", operation="hook_config_set", json=body)

    # --- Transport --------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return backoff_seconds(attempt, base=self.backoff_base, cap=self.backoff_cap)

    def _request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        if not self._app_key or not self._app_token:
            raise VTEXCredentialsMissing(account=self.account)
        url = f"{self.base_url}{path}"
        headers = {
            "X-VTEX-API-AppKey": self._app_key,
            "X-VTEX-API-AppToken": self._app_token,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        attempt = 0
        rate_limited_wait = 0.0
        rate_limited_rounds = 0
        while True:
            attempt += 1
            waited = self._limiter.acquire(self.account)
            if waited:
                VTEX_RATE_LIMIT_WAIT_SECONDS.labels(self.account, "budget").inc(waited)
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=headers,
                    timeout=(self.connect_timeout, self.read_timeout),
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                elapsed = time.monotonic() - started
                self._observe(operation, "error", elapsed, attempt, method, path, error=str(exc))
                if attempt >= self.max_attempts:
                    raise VTEXUnavailable(
                        _("VTEX could not be reached for %(operation)s after %(attempts)s attempts: %(error)s")
                        % {"operation": operation, "attempts": attempt, "error": type(exc).__name__},
                        operation=operation,
                        vtex_message=str(exc)[:500],
                    ) from exc
                self._sleep(self._backoff(attempt))
                continue

            elapsed = time.monotonic() - started
            status = response.status_code
            self._observe(operation, str(status), elapsed, attempt, method, path)

            if 200 <= status < 300:
                return _body(response)
            if status == 429:
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"), now=lambda: datetime.now(UTC))
                # No Retry-After, "0", or a date already past must not mean "hammer VTEX": then we
                # back off ourselves, growing, so the total wait reaches its cap and ends the loop.
                rate_limited_rounds += 1
                pause = retry_after if retry_after else self._backoff(rate_limited_rounds)
                if rate_limited_wait + pause > self.retry_after_max_wait:
                    raise VTEXRateLimited(
                        _("VTEX is rate limiting %(account)s (asked to wait %(seconds)s s); try again later.")
                        % {"account": self.account, "seconds": round(pause, 1)},
                        status=429,
                        vtex_message=vtex_error_message(response),
                        operation=operation,
                        retry_after=pause,
                    )
                logger.warning(
                    "VTEX rate limited %s %s; waiting %.2fs",
                    self.account,
                    operation,
                    pause,
                    extra={"vtex_account": self.account, "vtex_operation": operation, "retry_after": pause},
                )
                VTEX_RATE_LIMIT_WAIT_SECONDS.labels(self.account, "retry_after").inc(pause)
                self._sleep(pause)
                rate_limited_wait += pause
                attempt -= 1  # waiting out a 429 does not use up the error-retry budget
                continue
            if status >= 500:
                if attempt >= self.max_attempts:
                    raise VTEXUnavailable(status=status, vtex_message=vtex_error_message(response), operation=operation)
                self._sleep(self._backoff(attempt))
                continue
            raise VTEXError(status=status, vtex_message=vtex_error_message(response), operation=operation)

    def _observe(
        self, operation: str, status: str, elapsed: float, attempt: int, method: str, path: str, error: str = ""
    ) -> None:
        VTEX_REQUEST_SECONDS.labels(self.account, operation, status).observe(elapsed)
        VTEX_REQUESTS_TOTAL.labels(self.account, operation, status).inc()
        logger.info(
            "VTEX %s %s -> %s in %.0f ms (attempt %s)",
            method,
            path,
            status,
            elapsed * 1000,
            attempt,
            extra={
                "vtex_account": self.account,
                "vtex_operation": operation,
                "vtex_status": status,
                "duration_ms": round(elapsed * 1000),
                "attempt": attempt,
                "error": error,
            },
        )


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _vtex_instant(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("List orders needs aware datetimes")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.astimezone(UTC).microsecond // 1000:03d}Z"


def _body(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
