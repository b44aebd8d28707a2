"""Who is asking, from where, under which request id: kept in a context variable for logs and
for the audit log, so services need not thread the request through every call."""

import ipaddress
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.generations import reads_memo

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: A dotted quad in its canonical form (no leading zeros), which `ipaddress` would return as is;
#: matching it is how hot paths (the click edge, `tracking.hashing.ip_prefix`) skip `ipaddress`.
CANONICAL_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)


@dataclass(frozen=True)
class RequestMeta:
    request_id: str = "-"
    ip: str | None = None
    user_agent: str = ""
    user_id: int | None = None


_current: ContextVar[RequestMeta] = ContextVar("mgm_request_meta", default=RequestMeta())  # noqa: B039 - frozen, immutable


def current() -> RequestMeta:
    return _current.get()


def client_ip(request: HttpRequest) -> str | None:
    """The client address, trusting X-Forwarded-For only for the configured number of proxies."""
    return client_ip_from(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def client_ip_from(remote: str | None, forwarded_for: str) -> str | None:
    """`client_ip` from the peer address and the X-Forwarded-For header (also for servers that
    see no `HttpRequest`, such as the ASGI click edge)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [p.strip() for p in forwarded_for.split(",") if p.strip()]
        if len(forwarded) >= hops:
            remote = forwarded[-hops]
    if remote and CANONICAL_IPV4.fullmatch(remote):  # most requests: no `ipaddress` objects (the click edge)
        return remote
    try:
        return str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        return None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        meta = RequestMeta(
            request_id=request_id,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:400],
        )
        token = _current.set(meta)
        request.request_id = request_id  # type: ignore[attr-defined]
        try:
            with reads_memo():  # a cached value is read once per request (core/generations.py)
                response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestUserMiddleware:
    """Adds the authenticated user's id to the context once authentication has run."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            _current.set(replace(_current.get(), user_id=user.pk))
        return self.get_response(request)


class RequestContextLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        meta = _current.get()
        record.request_id = meta.request_id
        if meta.user_id is not None:
            record.user_id = meta.user_id
        return True
