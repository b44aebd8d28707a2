"""A fake VTEX account served over real HTTP, for tests of everything that talks to VTEX.

It answers with the shapes VTEX documents (the samples it serves are copies of VTEX's documented
payloads, kept in tests/vtex_samples/ so the suite needs nothing outside this repository), keeps coupons, orders and the hook configuration in memory, records every
request, and can be scripted to misbehave:

    fake_vtex.fail_next(3, 429, headers={"Retry-After": "1"})   # a 429 storm
    fake_vtex.fail_next(1, 500)                                 # a server error
    fake_vtex.fail_next(1, 400, body={"error": {...}})          # VTEX refuses
    fake_vtex.delay_next(1, seconds=2)                          # a slow answer (read timeouts)
    fake_vtex.add_order(json.load(...))                         # GET /api/oms/pvt/orders/{id} (and the PII /api/orders/pvt/document/{id})

Scripted failures apply to the next requests in arrival order, whatever their path, unless
`path_contains` narrows them.
"""

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from integrations.vtex.ratelimit import _limiter

SAMPLES = Path(__file__).resolve().parent / "vtex_samples"
APP_KEY = "vtexappkey-test-ABCDEF"
APP_TOKEN = "test-app-token"
REQUIRED_COUPON_FIELDS = ("utmSource", "couponCode", "maxItemsPerClient", "expirationIntervalPerUse")


def load_sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    at: float

    @property
    def json(self) -> Any:
        return self.body


@dataclass
class _Scripted:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    path_contains: str = ""


class FakeVTEX:
    def __init__(self, *, app_key: str = APP_KEY, app_token: str = APP_TOKEN) -> None:
        self.app_key = app_key
        self.app_token = app_token
        self.coupons: dict[str, dict[str, Any]] = {}
        self.coupon_usage: dict[str, list[dict[str, str]]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.hook_config: dict[str, Any] | None = None
        self.requests: list[RecordedRequest] = []
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-vtex", daemon=True
        )

    # --- Lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeVTEX":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- Scripting --------------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int,
        headers: dict[str, str] | None = None,
        body: Any = None,
        *,
        path_contains: str = "",
    ) -> None:
        with self._lock:
            for _i in range(n):
                self._script.append(
                    _Scripted(status=status, headers=dict(headers or {}), body=body, path_contains=path_contains)
                )

    def delay_next(self, n: int, seconds: float, *, path_contains: str = "") -> None:
        """The next `n` requests are answered normally, but only after `seconds`."""
        with self._lock:
            for _i in range(n):
                self._script.append(_Scripted(delay=seconds, path_contains=path_contains))

    def add_order(self, order_json: dict[str, Any]) -> None:
        self.orders[str(order_json["orderId"])] = order_json

    def add_coupon_usage(self, code: str, *, order_id: str, profile_id: str = "profile-1") -> None:
        self.coupon_usage.setdefault(code, []).append(
            {"orderId": order_id, "profileId": profile_id, "usageDateUtc": _now_vtex()}
        )

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if path_contains in r.path and (method is None or r.method == method)]

    def reset_log(self) -> None:
        self.requests.clear()

    def _next_script(self, path: str) -> _Scripted | None:
        with self._lock:
            for i, item in enumerate(self._script):
                if not item.path_contains or item.path_contains in path:
                    del self._script[i]
                    return item
        return None

    # --- Routing ----------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # silence stderr
                return

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                fake.requests.append(
                    RecordedRequest(
                        method=method,
                        path=unquote(parts.path),
                        query=parse_qs(parts.query),
                        headers={k: v for k, v in self.headers.items()},
                        body=body,
                        at=time.monotonic(),
                    )
                )
                scripted = fake._next_script(parts.path)
                if scripted is not None:
                    if scripted.delay:
                        time.sleep(scripted.delay)
                    if scripted.status:
                        self._send(scripted.status, scripted.body, scripted.headers)
                        return
                if (
                    self.headers.get("X-VTEX-API-AppKey") != fake.app_key
                    or self.headers.get("X-VTEX-API-AppToken") != fake.app_token
                ):
                    self._send(401, {"error": {"code": "1", "message": "Unauthorized access", "exception": None}})
                    return
                status, payload = fake.route(method, unquote(parts.path), parse_qs(parts.query), body)
                self._send(status, payload)

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                if isinstance(payload, bytes | bytearray):
                    data = bytes(payload)
                    content_type = "text/plain"
                elif payload is None:
                    data = b""
                    content_type = "application/json"
                else:
                    data = json.dumps(payload).encode()
                    content_type = "application/json; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if data:
                    self.wfile.write(data)

        return Handler

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        segments = [s for s in path.split("/") if s]
        match method, segments:
            case "POST", ["api", "rnb", "pvt", "coupon"]:
                return self._coupon_upsert(body)
            case "GET", ["api", "rnb", "pvt", "coupon"]:
                return 200, list(self.coupons.values())
            case "GET", ["api", "rnb", "pvt", "coupon", "usage", code]:
                return self._coupon_usage(code)
            case "GET", ["api", "rnb", "pvt", "coupon", code]:
                coupon = self.coupons.get(code)
                return (200, coupon) if coupon else (404, "Coupon not found")
            case "POST", ["api", "rnb", "pvt", "archive" | "unarchive" as action, "coupon", code]:
                coupon = self.coupons.get(code)
                if coupon is None:
                    return 404, "Coupon not found"
                coupon["isArchived"] = action == "archive"
                coupon["lastModifiedUtc"] = _now_vtex()
                return 200, code
            case "GET", ["api", "rnb", "v2", "pvt", "coupon", "usage-count", code]:
                return 200, len(self.coupon_usage.get(code, []))
            case "GET", ["api", "oms", "pvt", "orders"]:
                return self._orders_list(query)
            case "GET", ["api", "oms", "pvt", "orders", order_id] | ["api", "orders", "pvt", "document", order_id]:
                order = self.orders.get(order_id)
                if order is None:
                    return 404, {
                        "error": {"code": "OMS007", "message": f"Order {order_id} not found", "exception": None}
                    }
                return 200, order
            case "GET", ["api", "orders", "hook", "config"]:
                return (200, self.hook_config) if self.hook_config else (404, None)
            case "POST", ["api", "orders", "hook", "config"]:
                return self._hook_config_set(body)
        return 404, {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.5", "title": "Not Found", "status": 404}

    def _coupon_upsert(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {
                "title": "One or more validation errors occurred.",
                "status": 400,
                "error": {"": ["A JSON body is required."]},
            }
        missing = [name for name in REQUIRED_COUPON_FIELDS if body.get(name) in (None, "")]
        if missing:
            return 400, {
                "error": {name: [f"The {name} field is required."] for name in missing},
                "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                "title": "One or more validation errors occurred.",
                "status": 400,
            }
        coupon = {"lastModifiedUtc": _now_vtex(), **{k: v for k, v in body.items() if k != "lastModifiedUtc"}}
        self.coupons[str(body["couponCode"])] = coupon
        return 200, coupon

    def _coupon_usage(self, code: str) -> tuple[int, Any]:
        profiles: dict[str, dict[str, list[dict[str, str]]]] = {}
        for use in self.coupon_usage.get(code, []):
            profiles.setdefault(use["profileId"], {"orderUsage": []})["orderUsage"].append(
                {"orderId": use["orderId"], "usageDateUtc": use["usageDateUtc"]}
            )
        return 200, {"hostName": "fake", "couponCode": code, "profileUsages": profiles}

    def _orders_list(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        rows = list(self.orders.values())
        created = (query.get("f_creationDate") or [""])[0]
        if created.startswith("creationDate:[") and " TO " in created:
            start, end = created[len("creationDate:[") : -1].split(" TO ")
            rows = [o for o in rows if start <= _utc_text(o.get("creationDate", "")) <= end]
        status = (query.get("f_status") or [""])[0]
        if status:
            rows = [o for o in rows if o.get("status") == status]
        rows.sort(key=lambda o: _utc_text(o.get("creationDate", "")))
        per_page = min(int((query.get("per_page") or ["15"])[0]), 100)
        page = int((query.get("page") or ["1"])[0])
        chunk = rows[(page - 1) * per_page : page * per_page]
        pages = max(1, -(-len(rows) // per_page))
        return 200, {
            "list": [_list_row(o) for o in chunk],
            "facets": [],
            "paging": {"total": len(rows), "pages": pages, "currentPage": page, "perPage": per_page},
            "stats": {"stats": {"totalValue": {}, "totalItems": {}}},
        }

    def _hook_config_set(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or "filter" not in body or "hook" not in body:
            return 400, {"error": {"code": "1", "message": "filter and hook are required", "exception": None}}
        url = str(body["hook"].get("url", ""))
        if not url.startswith("https://"):
            return 400, {"error": {"code": "1", "message": "Only https scheme is accepted", "exception": None}}
        self.hook_config = body
        return 200, None


def _now_vtex() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _utc_text(value: str) -> str:
    """Order creationDate as comparable UTC text ("2024-02-04T20:09:43.899Z"), like the bounds
    of VTEX's f_creationDate filter."""
    if not value:
        return ""
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def _list_row(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "orderId": order["orderId"],
        "creationDate": str(order.get("creationDate", ""))[:19] + "+00:00",
        "clientName": "Test Client",
        "items": None,
        "totalValue": order.get("value", 0),
        "paymentNames": "Visa",
        "status": order.get("status", ""),
        "statusDescription": order.get("statusDescription", ""),
        "marketPlaceOrderId": None,
        "sequence": order.get("sequence", ""),
        "salesChannel": order.get("salesChannel", "1"),
        "affiliateId": order.get("affiliateId", ""),
        "origin": order.get("origin", "Marketplace"),
        "workflowInErrorState": False,
        "workflowInRetry": False,
        "lastMessageUnread": None,
        "ShippingEstimatedDate": None,
        "ShippingEstimatedDateMax": None,
        "ShippingEstimatedDateMin": None,
        "orderIsComplete": True,
        "listId": None,
        "listType": None,
        "authorizedDate": order.get("authorizedDate"),
        "callCenterOperatorName": None,
        "totalItems": sum(int(i.get("quantity", 0)) for i in order.get("items") or []),
        "currencyCode": (order.get("storePreferencesData") or {}).get("currencyCode", ""),
    }


@contextmanager
def fake_vtex_serving(settings: Any, server: FakeVTEX) -> Iterator[FakeVTEX]:
    """Start `server` and point every VTEX call at it (settings.VTEX_API_BASE_URL) for the
    block; retry backoff is shortened so 5xx retries stay fast, while 429 waits still honour
    Retry-After. The fixtures `fake_vtex` (tests/conftest.py) and `fake_oms` use it."""

    server.start()
    settings.VTEX_API_BASE_URL = server.url
    settings.VTEX_BACKOFF_BASE_SECONDS = 0.01
    settings.VTEX_BACKOFF_MAX_SECONDS = 0.05
    settings.VTEX_READ_TIMEOUT = 2.0
    _limiter.cache_clear()
    try:
        yield server
    finally:
        server.stop()
        _limiter.cache_clear()
