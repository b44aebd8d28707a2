"""Where a ledger line came from, in words a person recognises: the order behind a commission
posting, when it was placed, the code used.

The ledger only holds references (`commission:42`, `commission:42:adj:3`, …); the records they
point at belong to floors above payments (commissions), which payments must never import. So
those floors register a describer here from their `AppConfig.ready()`:

    ledger_origin_register("commissions", commission_origins)

and statements and the portal ask `ledger_origins(...)`. A reference nobody recognises has no
origin and is described by its kind alone (`payments.selectors.ledger_line_describe`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class LedgerOrigin:
    """What a person recognises a commission posting by: the VTEX order, when it was placed, the code."""

    order_id: str
    placed_at: datetime | None
    code: str


class OriginDescriber(Protocol):
    """The origin of each reference it recognises, for one influencer; others are left out."""

    def __call__(self, *, refs: Iterable[str], influencer_id: int) -> Mapping[str, LedgerOrigin]: ...


_describers: dict[str, OriginDescriber] = {}


def ledger_origin_register(name: str, describer: OriginDescriber) -> None:
    """Register `describer` under `name` (idempotent: `ready()` may run more than once in tests)."""
    _describers[name] = describer


def ledger_origins(*, refs: Iterable[str], influencer_id: int) -> dict[str, LedgerOrigin]:
    """The origin of every ledger reference some registered floor recognises."""
    wanted = set(refs)
    found: dict[str, LedgerOrigin] = {}
    for describer in list(_describers.values()):
        found.update(describer(refs=wanted, influencer_id=influencer_id))
    return found
