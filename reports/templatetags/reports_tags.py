from typing import Any

from django import template
from django.utils.formats import number_format

from core.money import format_minor, format_percent

register = template.Library()


@register.filter
def percent(value: Any) -> str:
    """0.0345 → "3.45 %" in English, "3,45 %" in Spanish and Portuguese; None → "—"."""
    return format_percent(value)


@register.simple_tag
def metric_value(value: Any, kind: str, currency: str) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return format_minor(int(value), currency)
    if kind == "rate":
        return percent(value)
    if isinstance(value, float) and not value.is_integer():
        return str(number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True))
    return str(number_format(int(value), use_l10n=True, force_grouping=True))


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
