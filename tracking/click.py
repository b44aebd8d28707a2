"""The click rules, shared by every server of `/r/<slug>`: Django's view (`tracking.views.redirect`)
and the ASGI edge in front of Django (`config.click_edge`). Pure functions over a link entry and
the request's method, headers, visitor cookie and address: what to record, which counters to
check, where to send the shopper and which cookie to set. Neither the database nor Redis is
touched here; the caller appends the record to the click buffer (sync or asyncio) and answers.
"""

import time
from dataclasses import dataclass
from typing import Any

from tracking.buffer import Screen
from tracking.conf import tracking_settings
from tracking.destinations import destination_host_allowed, tracked_destination
from tracking.hashing import (
    fingerprint,
    influencer_ref,
    ip_hash,
    ip_prefix,
    is_visitor_id,
    new_click_id,
    new_visitor_id,
)
from tracking.link_cache import link_entry_tracks
from tracking.screening import HeaderLookup, screen_request


class Headers:
    """Case-insensitive read-only view of request headers for the rules (Django's
    `request.headers` already is one; the ASGI edge builds this from the scope)."""

    __slots__ = ("_values",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        values: dict[str, str] = {}
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            values[key] = f"{values[key]}, {text}" if key in values and key != "cookie" else text
        self._values = values

    def get(self, key: str, default: str = "", /) -> str:
        return self._values.get(key.lower(), default)


@dataclass(frozen=True)
class ClickRequest:
    method: str
    headers: HeaderLookup  # case-insensitive
    visitor_cookie: str  # the value presented in the visitor cookie, "" when none
    ip: str | None  # the client address (trusted proxies already applied)


@dataclass(frozen=True)
class Click:
    """What one request on a tracking link does: append `record` (checked against `screen`)
    to the click buffer, then redirect to `target` and set the visitor cookie."""

    target: str
    record: dict[str, str]
    screen: Screen
    visitor: str
    cookie_max_age: int


@dataclass(frozen=True)
class Untracked:
    """The link exists but does not track now: redirect without a click and without a cookie."""

    target: str


def referrer_host(referer: str) -> str:
    if "://" not in referer:
        return ""
    return referer.split("://", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0].lower()[:255]


def click_decide(entry: dict[str, Any], request: ClickRequest, *, now: float | None = None) -> Click | Untracked | None:
    """The outcome of a request on a link whose cached `entry` was found: None when the link
    must answer 404 (its host was removed from the brand's allowlist after it was made)."""
    destination = entry["dest"]
    if not destination_host_allowed(destination, tuple(entry["hosts"])):
        return None
    now = time.time() if now is None else now
    if not link_entry_tracks(entry, now=now):
        # Not tracking (campaign not running, influencer not approved): still take the
        # shopper to the store, with no click and no cookie.
        return Untracked(target=destination)
    conf = tracking_settings()
    headers = request.headers
    visitor = request.visitor_cookie if is_visitor_id(request.visitor_cookie) else new_visitor_id()
    ip = request.ip
    user_agent = headers.get("User-Agent", "")
    language = headers.get("Accept-Language", "")[:40]
    prefix = ip_prefix(ip)
    fp = fingerprint(ip=ip, user_agent=user_agent, accept_language=language, prefix=prefix)
    hashed_ip = ip_hash(ip)
    click_id = new_click_id(now)
    record = {
        "click_id": click_id,
        "link": str(entry["id"]),
        "brand": str(entry["brand"]),
        "campaign": str(entry["campaign"]),
        "influencer": str(entry["influencer"]),
        "ts": f"{now:.6f}",
        "visitor": visitor,
        "ip_hash": hashed_ip,
        "ip_prefix": prefix,
        "fp": fp,
        "ua": user_agent[:300],
        "lang": language,
        "ref": referrer_host(headers.get("Referer", "")),
    }
    # The same visitor (cookie) or the same browser (fingerprint, for in-app browsers that
    # drop cookies) on the same link within the window is a duplicate.
    screen = Screen(
        reason=screen_request(method=request.method, headers=headers),
        dedupe_key=f"{conf.key_prefix}trk:dd:{entry['id']}:v:{visitor}",
        dedupe_alt_key=f"{conf.key_prefix}trk:dd:{entry['id']}:f:{fp}",
        flood_key=f"{conf.key_prefix}trk:fl:{hashed_ip}",
    )
    ref = influencer_ref(click_id=click_id, influencer_id=entry["influencer"], campaign_id=entry["campaign"])
    target = tracked_destination(
        destination,
        utm_source=conf.utm_source,
        utm_medium=conf.utm_medium,
        campaign_slug=entry["campaign_slug"],
        click_id=click_id,
        influencer_ref=ref,
    )
    return Click(
        target=target, record=record, screen=screen, visitor=visitor, cookie_max_age=int(entry["window_days"]) * 86400
    )


def click_response_headers(decision: Click | Untracked, *, outcome: str) -> list[tuple[str, str]]:
    """The headers of the 302 (besides Location), the same whichever server answers.
    `outcome` is what the buffer said ("" valid, a screen reason, or "unrecorded")."""
    conf = tracking_settings()
    headers = [("Cache-Control", "no-store")]
    if isinstance(decision, Untracked):
        return headers
    headers.append(("X-Robots-Tag", "noindex, nofollow"))
    if conf.expose_validity:  # benchmarks and tests only: never tell bots what was screened
        headers.append(("X-MGM-Click", outcome or "valid"))
    return headers


def visitor_cookie_header(decision: Click) -> str:
    """`Set-Cookie` value of the visitor cookie: Max-Age = the campaign's attribution window,
    HttpOnly, SameSite=Lax, Secure unless `TRACKING_COOKIE_SECURE` is off (local HTTP)."""
    conf = tracking_settings()
    value = f"{conf.cookie_name}={decision.visitor}; Max-Age={decision.cookie_max_age}; Path=/; HttpOnly; SameSite=Lax"
    return value + "; Secure" if conf.cookie_secure else value
