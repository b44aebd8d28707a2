from typing import Any

from django import template

from core.money import format_minor

register = template.Library()


@register.filter
def percent(value: Any) -> str:
    """0.0345 → "3.45 %"; None → "—"."""
    return "—" if value is None else f"{float(value) * 100:.2f} %"


@register.simple_tag
def metric_value(value: Any, kind: str, currency: str) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return format_minor(int(value), currency)
    if kind == "rate":
        return percent(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
