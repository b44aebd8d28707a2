"""A link's numbers (clicks, orders, revenue, commission, conversion) as tracking's own screens
(the admin, the API) show them.

They are computed by `reports` (the `LinkRollup` per link and day), which sits above tracking:
reports registers its reader here in `ReportsConfig.ready()`, and tracking asks through
`link_numbers` without importing it. Without a reader (reports not installed) every link reads
zero rather than failing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class LinkNumbers:
    """One link over a period; money in the brand's minor units, commission net by state."""

    clicks: int = 0
    unique_visitors: int = 0
    orders: int = 0
    revenue_cents: int = 0
    commission_estimated_cents: int = 0
    commission_confirmed_cents: int = 0

    @property
    def commission_cents(self) -> int:
        return self.commission_estimated_cents + self.commission_confirmed_cents

    @property
    def conversion(self) -> Decimal | None:
        """Orders per valid click, as a fraction (0.0250 is 2.5 %); None without clicks."""
        if not self.clicks:
            return None
        return (Decimal(self.orders) / Decimal(self.clicks)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def conversion_percent(self) -> Decimal | None:
        rate = self.conversion
        return None if rate is None else (rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


#: (link ids, first day, last day) -> numbers per link id (links without activity may be absent)
NumbersReader = Callable[[Iterable[int], date, date], dict[int, LinkNumbers]]

_reader: list[NumbersReader] = []


def link_numbers_register(reader: NumbersReader) -> None:
    """Install the reader (reports does, once; a second call replaces it)."""
    _reader[:] = [reader]


def link_numbers(*, link_ids: Iterable[int], start: date, end: date) -> dict[int, LinkNumbers]:
    """Numbers of each of `link_ids` over the inclusive local days `start`–`end`; every id
    asked for is in the answer (zeros when it had no activity)."""
    ids = list(dict.fromkeys(link_ids))
    found = _reader[0](ids, start, end) if _reader and ids else {}
    return {pk: found.get(pk, LinkNumbers()) for pk in ids}
