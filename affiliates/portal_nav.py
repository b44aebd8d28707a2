"""The portal's navigation is a list, so other contexts add their sections (payments adds
"Withdrawals") without touching the portal's templates:

    from affiliates.portal_nav import NavItem, portal_nav_register
    portal_nav_register(NavItem(key="withdrawals", label=_("Withdrawals"),
                                url_name="payments:portal_withdrawals", order=45))

Register from the app's `AppConfig.ready()`. Every URL name receives `brand_slug`.
"""

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
    NavItem("dashboard", _("Dashboard"), "affiliates:portal_dashboard", 10),
    NavItem("codes", _("Codes and links"), "affiliates:portal_codes", 20, while_suspended=False),
    NavItem("orders", _("Orders"), "affiliates:portal_orders", 30),
    NavItem("earnings", _("Earnings"), "affiliates:portal_earnings", 40),
    NavItem("profile", _("Profile"), "affiliates:portal_profile", 60),
    NavItem("payout", _("Payout data"), "affiliates:portal_payout", 70),
    NavItem("security", _("Security"), "affiliates:portal_security", 80),
):
    portal_nav_register(_item)
