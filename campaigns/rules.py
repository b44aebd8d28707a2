"""The rule vocabulary of a campaign: what a commission rule or an eligibility filter looks at
on an order line, and the frozen specs the commission engine evaluates.

A campaign is written in these words (its rules, its eligibility lists); commissions
(`commissions.engine`, a floor above) reads them to compute the money. They live here, with the
campaign, so the campaign context never imports the floor that pays it. docs/commissions.md says
what each rule means.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

ONE = Decimal(1)
ZERO = Decimal(0)


class Dimension(StrEnum):
    """What a rule or an eligibility filter looks at on a line."""

    ALL = "all"
    SKU = "sku"
    PRODUCT = "product"
    CATEGORY = "category"
    BRAND = "brand"
    COLLECTION = "collection"


class RuleKind(StrEnum):
    PERCENTAGE = "percentage"  # rate × line base
    FIXED_PER_UNIT = "fixed_per_unit"  # amount × quantity, never above the line base


@dataclass(frozen=True)
class OrderLineInput:
    """One order line. `base_cents` is the line total after discounts (selling price × quantity,
    VTEX's `priceDefinition.total`), excluding shipping and tax."""

    line_id: str
    sku_id: str
    quantity: int
    base_cents: int
    product_id: str = ""
    category_ids: frozenset[str] = frozenset()
    brand_id: str = ""
    collection_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.quantity < 0 or self.base_cents < 0:
            raise ValueError(f"line {self.line_id}: quantity and base must not be negative")

    def values(self, dimension: Dimension) -> frozenset[str]:
        match dimension:
            case Dimension.SKU:
                return frozenset({self.sku_id})
            case Dimension.PRODUCT:
                return frozenset({self.product_id}) if self.product_id else frozenset()
            case Dimension.CATEGORY:
                return self.category_ids
            case Dimension.BRAND:
                return frozenset({self.brand_id}) if self.brand_id else frozenset()
            case Dimension.COLLECTION:
                return self.collection_ids
        return frozenset()


@dataclass(frozen=True)
class RuleSpec:
    """A commission rule. Lower `priority` numbers are tried first; ties go to the lower
    `rule_id`. `rate` is a fraction for PERCENTAGE rules; `amount_cents` is per unit for
    FIXED_PER_UNIT rules."""

    rule_id: int
    name: str
    kind: RuleKind
    priority: int = 100
    rate: Decimal = ZERO
    amount_cents: int = 0
    dimension: Dimension = Dimension.ALL
    ids: frozenset[str] = frozenset()
    cap_per_line_cents: int | None = None
    cap_per_order_cents: int | None = None

    def __post_init__(self) -> None:
        if self.kind == RuleKind.PERCENTAGE and not ZERO <= self.rate <= ONE:
            raise ValueError(f"rule {self.rule_id}: a rate is a fraction between 0 and 1")
        if self.amount_cents < 0:
            raise ValueError(f"rule {self.rule_id}: the amount must not be negative")
        for cap in (self.cap_per_line_cents, self.cap_per_order_cents):
            if cap is not None and cap < 0:
                raise ValueError(f"rule {self.rule_id}: caps must not be negative")

    def matches(self, line: OrderLineInput) -> bool:
        if self.dimension == Dimension.ALL:
            return True
        return bool(self.ids & line.values(self.dimension))


@dataclass(frozen=True)
class EligibilitySpec:
    """Which lines a campaign pays on. A line is eligible when it matches at least one include
    list (or there are none) and matches no exclude list."""

    include: Mapping[Dimension, frozenset[str]] = field(default_factory=dict)
    exclude: Mapping[Dimension, frozenset[str]] = field(default_factory=dict)

    def allows(self, line: OrderLineInput) -> bool:
        includes = {dim: ids for dim, ids in self.include.items() if ids}
        if includes and not any(line.values(dim) & ids for dim, ids in includes.items()):
            return False
        return not any(line.values(dim) & ids for dim, ids in self.exclude.items() if ids)
