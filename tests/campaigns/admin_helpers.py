"""POST bodies for the campaign admin form and its inlines."""

from typing import Any

INLINES = ("variants", "eligibility", "rules", "tiers")


def campaign_form(brand_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "brand": brand_id,
        "name": "Plantilla SKUs",
        "slug": "plantilla-skus",
        "description": "",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "attribution_window_days": 14,
        "hold_days": 15,
        "order_cap_cents": "",
        "utm_source": "mgm",
        "utm_campaign": "temporada",
        "vtex_promotion_id": "",
        "discount_percent": "10",
        "code_max_usage": 1000,
        "code_max_items_per_client": 10,
        "tier_metric": "sales",
        "tier_period": "month",
    }
    for prefix in INLINES:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    data.update(overrides)
    return data


def with_rows(data: dict[str, Any], prefix: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data = dict(data)
    data[f"{prefix}-TOTAL_FORMS"] = len(rows)
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def rule(name: str, rate: str, *, dimension: str = "all", ids: str = "", priority: int = 100) -> dict[str, Any]:
    return {
        "priority": priority,
        "name": name,
        "variant": "",
        "kind": "percentage",
        "rate_percent": rate,
        "amount_cents": "",
        "dimension": dimension,
        "ids": ids,
        "cap_per_line_cents": "",
        "cap_per_order_cents": "",
    }


def tier(name: str, threshold: str, bonus: str) -> dict[str, Any]:
    return {"name": name, "threshold": threshold, "bonus_percent": bonus}


def variant(key: str, weight: int) -> dict[str, Any]:
    return {"key": key, "name": "", "weight": weight, "discount_percent": ""}
