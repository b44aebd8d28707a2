"""Screening rules for the redirect: pure functions over the request's method and headers.
A screened click still gets its redirect; it is stored as not valid, with the reason."""

import re
from typing import Protocol

# Crawlers, link unfurlers, monitoring and HTTP libraries. Real browsers say "Mozilla/5.0 (…)"
# without any of these words; empty user agents are screened too.
BOT_UA = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|embedly|quora link preview|"
    r"whatsapp|telegrambot|skypeuripreview|slackbot|discordbot|vkshare|pinterest|bitlybot|"
    r"headless|phantomjs|puppeteer|playwright|selenium|lighthouse|pagespeed|gtmetrix|pingdom|uptime|"
    r"monitor|python-requests|python-urllib|aiohttp|httpx|curl/|wget/|libwww|go-http-client|okhttp|"
    r"java/|apache-httpclient|node-fetch|axios/|scrapy|preview|validator|checker",
)
# All lowercase (asserted in tests): matched against the lowered user agent, which is faster
# than re.IGNORECASE.


class HeaderLookup(Protocol):
    """Case-insensitive request headers (Django's `request.headers`, `tracking.click.Headers`)."""

    def get(self, key: str, default: str, /) -> str: ...


def screen_request(*, method: str, headers: HeaderLookup) -> str:
    """The `Click.ScreenReason` value for a request that must not count, or "" when valid.
    `headers` is case-insensitive (Django's `request.headers`)."""
    if method == "HEAD":
        return "head"
    purpose = " ".join(headers.get(name, "") for name in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")).lower()
    if "prefetch" in purpose or "preview" in purpose or "prerender" in purpose:
        return "prefetch"
    mode = headers.get("Sec-Fetch-Mode", "").lower()
    dest = headers.get("Sec-Fetch-Dest", "").lower()
    if (mode and mode != "navigate") or (dest and dest != "document"):
        return "sec_fetch"
    user_agent = headers.get("User-Agent", "")
    if not user_agent.strip() or BOT_UA.search(user_agent.lower()):
        return "bot"
    return ""
