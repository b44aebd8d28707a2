"""The portal's navigation: one list of sections, ordered, each a URL name that receives
`brand_slug`. A new portal page adds its section here (or with `portal_nav_register` from
the portal's own modules)."""

from dataclasses import dataclass

from django.urls import reverse
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


def portal_nav_items(*, brand_slug: str, current: str, suspended: bool = False) -> list[dict[str, object]]:
    items = sorted(_ITEMS.values(), key=lambda item: (item.order, item.key))
    return [
        {
            "key": item.key,
            "label": item.label,
            "url": reverse(item.url_name, kwargs={"brand_slug": brand_slug}),
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
