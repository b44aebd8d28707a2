"""The portal's navigation: one list of sections, ordered, each a URL name that receives
`brand_slug`. A new portal page adds its section here (or with `portal_nav_register` from
the portal's own modules)."""

from dataclasses import dataclass
from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise | str
    url_name: str
    order: int = 100
    #: shown to suspended members too (read-only history); codes and links are not
    while_suspended: bool = True


_ITEMS: dict[str, NavItem] = {}


def portal_nav_register(item: NavItem) -> None:
    """Add or replace a section (by key)."""
    _ITEMS[item.key] = item


@lru_cache(maxsize=4096)
def _section_url(url_name: str, brand_slug: str, prefix: str, urlconf: str | None) -> str:
    # `prefix` is only a key: reverse() reads the script prefix in force, which it names.
    return reverse(url_name, urlconf=urlconf, kwargs={"brand_slug": brand_slug})


def portal_nav_items(*, brand_slug: str, current: str, suspended: bool = False) -> list[dict[str, object]]:
    """Every portal page shows the whole list: its URLs are reversed once per process and
    brand (a dozen `reverse()` calls were ~4 % of a page's CPU), for the script prefix and URL
    configuration in force."""
    items = sorted(_ITEMS.values(), key=lambda item: (item.order, item.key))
    prefix, urlconf = get_script_prefix(), get_urlconf()
    return [
        {
            "key": item.key,
            "label": item.label,
            "url": _section_url(item.url_name, brand_slug, prefix, urlconf),
            "current": item.key == current,
        }
        for item in items
        if item.while_suspended or not suspended
    ]


for _item in (
    NavItem("dashboard", _("Dashboard"), "portal:dashboard", 10),
    NavItem("codes", _("My codes"), "portal:codes", 20, while_suspended=False),
    NavItem("links", _("My links"), "portal:links", 25, while_suspended=False),
    NavItem("creatives", _("Creatives"), "portal:creatives", 27, while_suspended=False),
    NavItem("orders", _("Orders"), "portal:orders", 30),
    NavItem("earnings", _("Earnings"), "portal:earnings", 40),
    NavItem("claims", _("Missing sale?"), "portal:claims", 35, while_suspended=False),
    NavItem("referrals", _("My referrals"), "portal:referrals", 46),
    NavItem("withdrawals", _("Withdrawals"), "portal:withdrawals", 45),
    NavItem("statements", _("Statements"), "portal:statements", 50),
    NavItem("notifications", _("Notifications"), "portal:notifications", 55),
    NavItem("profile", _("Profile"), "portal:profile", 60),
    NavItem("payout", _("Payout data"), "portal:payout", 70),
    NavItem("security", _("Security"), "portal:security", 80),
):
    portal_nav_register(_item)
