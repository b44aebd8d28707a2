"""Server-side SVG charts for the back office (no JavaScript, nothing for the CSP to allow).
The daily time series reuses the portal's trend chart; the builder preview draws bars."""

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
ROW = 22
LABEL_WIDTH = 200


@dataclass(frozen=True)
class HBar:
    y: float
    width: float
    label: str
    value_label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bars: list[HBar]
    title: str


def bar_chart(
    *, labels: Sequence[str], values: Sequence[float | int | None], title: str, max_bars: int = 20
) -> BarChart:
    """Horizontal bars, one per row (the first `max_bars`), scaled to the largest value."""
    pairs = [(str(label)[:32], float(value or 0)) for label, value in zip(labels, values, strict=False)][:max_bars]
    top = max([v for _l, v in pairs] + [0.0])
    plot = WIDTH - LABEL_WIDTH - 70
    bars = [
        HBar(
            y=i * ROW + 4,
            width=round(plot * v / top, 2) if top else 0,
            label=label,
            value_label=f"{v:,.4g}" if v < 1 and v else f"{v:,.0f}",
        )
        for i, (label, v) in enumerate(pairs)
    ]
    return BarChart(width=WIDTH, height=max(ROW * len(bars) + 8, 40), label_width=LABEL_WIDTH, bars=bars, title=title)
