"""Sign-in and registration throttles answer 429 with Retry-After (decision 0003).

allauth decides whether an attempt is allowed; this module says how long until the next one
is, and `RateLimitStatusMiddleware` turns the page allauth (or the join view) rendered into a
429 carrying that wait. The per-email limit is keyed on IP + email, so a stranger hammering
someone's email from elsewhere cannot lock the real person out of their own connection."""

import math
import time
from collections.abc import Callable

from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

REQUEST_ATTR = "mgm_retry_after"


def retry_after_seconds(request: HttpRequest, *, action: str, key: str | None = None) -> int:
    """Seconds until `action` is allowed again for this request (0: allowed now)."""
    now = time.time()
    wait = 0.0
    for rate in allauth_ratelimit.get_rates(app="allauth.account", action=action):
        if rate.per == "key" and key is None:
            continue
        if rate.per == "user":
            continue
        cache_key = allauth_ratelimit.get_cache_key(request, app="allauth.account", action=action, rate=rate, key=key)
        history: list[float] = cache.get(cache_key, [])
        recent = [t for t in history if t > now - rate.duration]
        if len(recent) >= rate.amount:
            # The hits are newest first; the window reopens when the oldest counted one leaves it.
            wait = max(wait, recent[rate.amount - 1] + rate.duration - now)
    return max(1, math.ceil(wait)) if wait > 0 else 0


def mark_rate_limited(request: HttpRequest, *, action: str, key: str | None = None) -> None:
    setattr(request, REQUEST_ATTR, max(1, retry_after_seconds(request, action=action, key=key)))


class RateLimitStatusMiddleware:
    """A page rendered for a throttled attempt becomes a 429 with Retry-After."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        wait = getattr(request, REQUEST_ATTR, None)
        if wait:
            if response.status_code < 400:
                response.status_code = 429
            if response.status_code == 429:
                response["Retry-After"] = str(wait)
        return response
