from typing import Any

from django import template

from core.money import format_minor

register = template.Library()


@register.filter
def money(cents: Any, currency: str) -> str:
    """`{{ amount_cents|money:brand.currency }}` → "COP 1,234.56"."""
    try:
        return format_minor(int(cents or 0), str(currency))
    except (TypeError, ValueError):
        return ""
