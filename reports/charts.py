"""Server-side SVG charts for the back office and the portal: coordinates computed here, drawn
by a template. No JavaScript, no external library, nothing for the CSP to allow. The daily
trend chart (sales and commissions as lines, orders as bars) serves both dashboards; the
builder preview draws horizontal bars."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format

from core.money import format_minor

WIDTH = 640
ROW = 22
LABEL_WIDTH = 200


@dataclass(frozen=True)
class DailyPoint:
    day: date
    clicks: int = 0
    orders: int = 0
    sales_cents: int = 0
    commission_cents: int = 0


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
    *,
    labels: Sequence[str],
    values: Sequence[float | int | None],
    title: str,
    max_bars: int = 20,
    value_format: Callable[[float], str] | None = None,
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
            value_label=value_format(v) if value_format else (f"{v:,.4g}" if v < 1 and v else f"{v:,.0f}"),
        )
        for i, (label, v) in enumerate(pairs)
    ]
    return BarChart(width=WIDTH, height=max(ROW * len(bars) + 8, 40), label_width=LABEL_WIDTH, bars=bars, title=title)


HEIGHT = 220
PAD_LEFT = 8
PAD_RIGHT = 8
PAD_TOP = 16
PAD_BOTTOM = 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    baseline_y: float
    plot_left: float
    plot_right: float
    sales_line: str  # SVG polyline points
    commission_line: str
    bars: list[Bar]  # orders per day
    max_label: str
    x_labels: list[tuple[float, str]]
    is_empty: bool


def _scale(value: int, top: int, plot_height: float) -> float:
    return PAD_TOP + plot_height * (1 - (value / top if top else 0))


def trend_chart(points: Sequence[DailyPoint], *, currency: str) -> TrendChart:
    """Sales and commissions as lines, orders as bars, one slot per day."""
    count = max(len(points), 1)
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_width / count
    top_money = max([p.sales_cents for p in points] + [p.commission_cents for p in points] + [0])
    top_orders = max([p.orders for p in points] + [0])
    baseline = PAD_TOP + plot_height

    def x_of(i: int) -> float:
        return round(PAD_LEFT + step * i + step / 2, 2)

    sales = " ".join(
        f"{x_of(i)},{round(_scale(p.sales_cents, top_money, plot_height), 2)}" for i, p in enumerate(points)
    )
    commissions = " ".join(
        f"{x_of(i)},{round(_scale(p.commission_cents, top_money, plot_height), 2)}" for i, p in enumerate(points)
    )
    bars = []
    for i, p in enumerate(points):
        if p.orders and top_orders:
            height = round(plot_height * 0.5 * p.orders / top_orders, 2)
            bars.append(
                Bar(
                    x=round(PAD_LEFT + step * i + step * 0.2, 2),
                    y=round(baseline - height, 2),
                    width=round(step * 0.6, 2),
                    height=height,
                    label=f"{date_format(p.day, 'SHORT_DATE_FORMAT')}: {p.orders}",
                )
            )
    x_labels: list[tuple[float, str]] = []
    if points:
        for i in sorted({0, len(points) // 2, len(points) - 1}):
            x_labels.append((x_of(i), date_format(points[i].day, "j M")))
    return TrendChart(
        width=WIDTH,
        height=HEIGHT,
        baseline_y=baseline,
        plot_left=PAD_LEFT,
        plot_right=WIDTH - PAD_RIGHT,
        sales_line=sales,
        commission_line=commissions,
        bars=bars,
        max_label=format_minor(top_money, currency) if top_money else "",
        x_labels=x_labels,
        is_empty=not (top_money or top_orders),
    )


def sparkline_points(values: Sequence[int], *, width: int = 100, height: int = 24) -> str:
    """SVG polyline points for a tiny line chart of `values` in a `width` × `height` box (1 px
    margin), scaled to the largest value; a flat line at the bottom when all are zero."""
    if not values:
        return ""
    top = max(values) or 1
    step = (width - 2) / max(len(values) - 1, 1)
    return " ".join(
        f"{round(1 + step * i, 2)},{round(height - 1 - (height - 2) * v / top, 2)}" for i, v in enumerate(values)
    )
