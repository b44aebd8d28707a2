"""Multi-touch attribution models for reports: pure functions that split one order's credit
(1.0) between its touchpoints. Touchpoints are anything with `influencer_id` and
`occurred_at`; credit is returned per influencer id, as Decimals that add up to 1."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

MODELS = ("first", "last", "linear", "position", "time_decay")


def _ordered(touchpoints: Sequence[Any]) -> list[Any]:
    return sorted((tp for tp in touchpoints if tp.occurred_at is not None), key=lambda tp: tp.occurred_at)


def _weights(n: int, model: str, ages_days: list[float], half_life_days: float) -> list[Decimal]:
    if model == "first":
        return [Decimal(1)] + [Decimal(0)] * (n - 1)
    if model == "last":
        return [Decimal(0)] * (n - 1) + [Decimal(1)]
    if model == "linear":
        return [Decimal(1) / n] * n
    if model == "position":
        if n == 1:
            return [Decimal(1)]
        if n == 2:
            return [Decimal("0.5"), Decimal("0.5")]
        middle = Decimal("0.2") / (n - 2)
        return [Decimal("0.4")] + [middle] * (n - 2) + [Decimal("0.4")]
    if model == "time_decay":
        raw = [Decimal(2) ** Decimal(-age / half_life_days) for age in ages_days]
        total = sum(raw)
        return [w / total for w in raw]
    raise ValueError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")


def multitouch_credit(
    touchpoints: Sequence[Any], *, model: str, converted_at: datetime, half_life_days: float = 7.0
) -> dict[int, Decimal]:
    """Credit per influencer id under `model`: first, last, linear, position (40/20/40) or
    time_decay (halves every `half_life_days` before the conversion)."""
    ordered = _ordered(touchpoints)
    if not ordered:
        return {}
    ages = [max((converted_at - tp.occurred_at).total_seconds() / 86400, 0.0) for tp in ordered]
    credit: dict[int, Decimal] = defaultdict(Decimal)
    for tp, weight in zip(ordered, _weights(len(ordered), model, ages, half_life_days), strict=True):
        credit[tp.influencer_id] += weight
    return dict(credit)
