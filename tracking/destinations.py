"""Where a link may send people, and the UTMs it adds. Pure functions.

A destination is accepted only when it is an absolute http(s) URL whose hostname is exactly one
of the brand's `store_domains`: no userinfo, no backslashes, no control characters (CR/LF
injection), no explicit port other than the scheme's, no look-alike hosts (`shop.example.evil`
or `shop.example.` do not match `shop.example`). The redirect never takes a host from the
request: it only appends query parameters to the stored destination.
"""

import functools
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from core.errors import ApplicationError

_CONTROL = re.compile(r"[\x00-\x20\x7f\\]")
_HOST_RE = re.compile(r"^[a-z0-9.-]+$")
#: Query keys we own on the destination; any such key already in the stored URL is replaced.
TRACKING_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utmi_cp", "utmi_pc", "utmi_p")


class DestinationRefused(ApplicationError):
    default_code = "destination_refused"

    def __init__(self, message: Any, **kwargs: Any) -> None:
        kwargs.setdefault("extra", {"field": "destination_url"})
        super().__init__(message, **kwargs)


def normalize_host(host: str) -> str:
    return (host or "").strip().lower()


def allowed_hosts(store_domains: Iterable[str]) -> frozenset[str]:
    return frozenset(h for h in (normalize_host(str(d)) for d in store_domains or []) if _HOST_RE.match(h))


def destination_check(url: str, *, hosts: Iterable[str], https_only: bool = False) -> str:
    """Return `url` when it may be a link's destination; raise `DestinationRefused` otherwise.

    `https_only` is for links influencers make themselves (managers may still point a link at an
    http page of a store that has not moved yet). Every refusal carries `field="destination_url"`
    so a form shows it beside the address."""
    allowed = allowed_hosts(hosts)
    if not isinstance(url, str) or not url or len(url) > 1000:
        raise DestinationRefused(_("Enter the full address of a page of the store, up to 1000 characters."))
    if _CONTROL.search(url):
        raise DestinationRefused(_("The address has spaces, backslashes or control characters; remove them."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(_("That address cannot be read; copy it again from the store.")) from exc
    if parts.scheme not in ("http", "https"):
        raise DestinationRefused(_("The address must start with https:// (or http://)."))
    if https_only and parts.scheme != "https":
        raise DestinationRefused(_("The address must start with https://."))
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise DestinationRefused(_("The address must not contain a user name or password."))
    if port is not None and port != (443 if parts.scheme == "https" else 80):
        raise DestinationRefused(_("The address must not name a port."))
    host = normalize_host(parts.hostname or "")
    if not host or host not in allowed:
        raise DestinationRefused(
            _("%(host)s is not one of the brand's store domains (%(allowed)s).")
            % {"host": host or "?", "allowed": ", ".join(sorted(allowed)) or _("none configured")}
        )
    _refuse_onward_redirects(parts.query, parts.fragment, allowed=allowed)
    return url


_ONWARD = re.compile(r"^(?:https?:|[/\\]{2}|(?:javascript|data|vbscript):)", re.IGNORECASE)


def _refuse_onward_redirects(query: str, fragment: str, *, allowed: frozenset[str]) -> None:
    """No open redirect through the store: a query or fragment value that is itself an address
    (`?returnUrl=https://evil.example`, `//evil.example`, `javascript:`) may only name one of
    the brand's store domains. Store pages that send the shopper on (login, checkout) would
    otherwise turn our trusted `/r/` link into a redirect to anywhere. VTEX's own filters
    (`fq=C:/1000001/`, `map=c,c`) are not addresses and pass."""
    values = [v for _k, v in parse_qsl(query, keep_blank_values=True)]
    values += [v for _k, v in parse_qsl(fragment, keep_blank_values=True)] if "=" in fragment else [fragment]
    for value in values:
        value = value.strip()
        if not _ONWARD.match(value):
            continue
        host = ""
        if value.lower().startswith(("http", "//")):
            try:
                host = normalize_host(urlsplit(value.replace("\\", "/")).hostname or "")
            except ValueError:
                host = ""
        if not host or host not in allowed:
            raise DestinationRefused(
                _("The address sends the shopper on to another site (%(value)s); link to the store's page itself.")
                % {"value": value[:80]}
            )


def tracked_destination(
    url: str, *, utm_source: str, utm_medium: str, campaign_slug: str, click_id: str, influencer_ref: str
) -> str:
    """`url` with the UTMs VTEX copies into the order's `marketingData` (docs/tracking.md):
    utm_source/utm_medium/utm_campaign → utmSource/utmMedium/utmCampaign,
    utmi_cp → utmiCampaign (the click id), utmi_pc → utmiPart (signed influencer reference).
    Keys we own already in `url` are replaced, the rest kept in order.

    Precondition: `click_id` (a ULID) and `influencer_ref` (`<digits>.<digits>.<hex>`) are
    URL-safe by construction, so they are appended without encoding."""
    head, query_prefix, fragment = _destination_template(url, utm_source, utm_medium, campaign_slug)
    return f"{head}?{query_prefix}&utmi_cp={click_id}&utmi_pc={influencer_ref}{fragment}"


@functools.lru_cache(maxsize=4096)
def _destination_template(url: str, utm_source: str, utm_medium: str, campaign_slug: str) -> tuple[str, str, str]:
    # The redirect builds every click's target from one of a few thousand (destination,
    # campaign) pairs: parse each once per process, with the kept query and the constant UTMs
    # already encoded. Returns (scheme://netloc/path, encoded query prefix, "#fragment" or "").
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in TRACKING_KEYS]
    constant = [("utm_source", utm_source), ("utm_medium", utm_medium), ("utm_campaign", campaign_slug)]
    head = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
    return head, urlencode(kept + constant), f"#{parts.fragment}" if parts.fragment else ""


@functools.lru_cache(maxsize=4096)
def destination_host_allowed(url: str, store_domains: tuple[str, ...]) -> bool:
    """Whether the destination's host is still one of the brand's store domains (memoized:
    the redirect asks on every click)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return host in allowed_hosts(store_domains)
