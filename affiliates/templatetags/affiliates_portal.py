from django import template

from core.money import format_minor

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """Minor units as people read them: {{ total|money:brand.currency }}."""
    return format_minor(int(amount or 0), currency)
