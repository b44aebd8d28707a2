from typing import Any

from django import template

from core.money import format_minor

register = template.Library()


@register.filter
def money(cents: Any, currency: str) -> str:
    """`{{ amount_cents|money:brand.currency }}` in the page's language; "—" when unknown."""
    if cents is None or cents == "":
        return "—"
    try:
        return format_minor(int(cents), str(currency))
    except (TypeError, ValueError):
        return "—"
