"""The daily trend chart's SVG (reports_tags.trend_svg): what the three pages that draw it show."""

from datetime import date, timedelta

from django.template import engines
from django.utils import translation

from reports.charts import DailyPoint, trend_chart

TEMPLATE = engines["django"].from_string(
    "{% load reports_tags %}{% trend_svg chart title=title empty=empty title_id=title_id testid=testid %}"
)


def _render(points: list[DailyPoint], **context: str) -> str:
    chart = trend_chart(points, currency="COP")
    values = {"title": "Sales", "empty": "Nothing yet", "title_id": "", "testid": "", **context}
    return TEMPLATE.render({"chart": chart, **values})


def _days(count: int) -> list[DailyPoint]:
    start = date(2026, 9, 1)
    return [
        DailyPoint(day=start + timedelta(days=i), orders=i % 3, sales_cents=i * 123_456, commission_cents=i * 12_345)
        for i in range(count)
    ]


def test_bars_lines_and_labels_with_coordinates_never_localized() -> None:
    with translation.override("es"):
        svg = _render(_days(90), title_id="chart-title", testid="dashboard-chart")
    assert svg.startswith('<svg viewBox="0 0 640 220" role="img" aria-labelledby="chart-title" class="trend"')
    assert 'data-testid="dashboard-chart"' in svg
    assert '<title id="chart-title">Sales</title>' in svg
    assert svg.count('class="bar"') == 60  # the days with orders
    assert 'class="line-sales"' in svg
    assert 'class="line-commission"' in svg
    assert "Nothing yet" not in svg
    # A Spanish decimal comma would split a coordinate in two; the money label is localized.
    numbers = svg.split('points="')[1].split('"')[0]
    assert "," in numbers
    assert all(pair.count(",") == 1 for pair in numbers.split())
    assert 'width="4.16"' in svg  # 624 px / 90 days × 0.6
    assert "COP" in svg


def test_an_empty_period_says_so_and_texts_are_escaped() -> None:
    svg = _render([], title='<script>alert("t")</script>', empty="Nada <b>aún</b>")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "Nada &lt;b&gt;aún&lt;/b&gt;" in svg
    assert 'class="bar"' not in svg
    assert "aria-labelledby" not in svg
