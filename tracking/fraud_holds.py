"""What the fraud flags hold, asked by tracking of the context that owns the money.

Tracking owns fraud flags and decides whether a commission is on hold; commissions owns the
commissions and their amounts. Tracking sits below commissions and must not import it, so
commissions fills this registry in `CommissionsConfig.ready()` with two reads:

- `subject_of(ref)`: the (brand, influencer, VTEX order) a commission ledger reference
  ("commission:<pk>", "commission:<pk>:adj:<n>") stands for, or None when it is not one;
- `held_by_order(brand_ids=, order_refs=)`: the cents on hold per (brand id, VTEX order id), the
  column the review queue shows next to each order flag.

Without a provider (commissions not installed) tracking knows no commission: references are read
as VTEX order ids and nothing is shown as held. Resolving a flag is told the other way, through
the `fraud.flag_resolved` event (core.events).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HoldSubject:
    """What a hold depends on: the brand, the influencer and the VTEX order."""

    brand_id: int
    influencer_id: int
    order_ref: str


SubjectOf = Callable[[str], HoldSubject | None]
HeldByOrder = Callable[..., dict[tuple[int, str], int]]


@dataclass
class _Providers:
    subject_of: SubjectOf | None = None
    held_by_order: HeldByOrder | None = None


_providers = _Providers()


def fraud_holds_register(*, subject_of: SubjectOf, held_by_order: HeldByOrder) -> None:
    """Called once by the app that owns commissions; a second call replaces the first (tests may
    run `ready()` again)."""
    _providers.subject_of = subject_of
    _providers.held_by_order = held_by_order


def hold_subject(ref: str) -> HoldSubject | None:
    """The subject of a commission reference, or None (no provider, or not a commission ref)."""
    if _providers.subject_of is None:
        return None
    return _providers.subject_of(ref)


def held_cents_by_order(*, brand_ids: set[int], order_refs: set[str]) -> dict[tuple[int, str], int]:
    """Cents on fraud hold per (brand id, VTEX order id); empty without a provider."""
    if _providers.held_by_order is None or not brand_ids or not order_refs:
        return {}
    return _providers.held_by_order(brand_ids=brand_ids, order_refs=order_refs)
