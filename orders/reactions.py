"""What higher floors do when orders reconciles an order, registered from their `AppConfig.ready()`.

Orders sits below commissions (docs/architecture.md): it must never import it, yet an order sync
has to let the commission records follow the order, and must leave a settled attribution alone.
So orders asks here, and commissions answers by registering:

    attribution_settled_register("commissions", has_confirmed_commission)
    order_applied_register("commissions", commissions_sync_for_order)
    batch_prefetch_register("commissions", commissions_prefetch)  # optional: batches read ahead

Both are called inside the order sync's transaction, holding the order's row lock (see
`orders.services.orders.order_apply`): what a reaction writes commits or rolls back with the order,
and an error in it fails the sync, as the commission sync always did. Registration is by name, so
`ready()` running twice (tests) registers once.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orders.models import Order

#: (order) -> whether the order's attribution is settled money and must stay as it was.
SettledCheck = Callable[["Order"], bool]


class OrderReaction(Protocol):
    """(order, now) -> counts for logs and benchmarks (created, changed, …)."""

    def __call__(self, *, order: "Order", now: datetime) -> Mapping[str, int]: ...


class BatchPrefetch(Protocol):
    """(orders, created) -> None: read ahead, into the batch's memo (core.batching), what the
    reactions will read for each of these orders. `orders` are locked and existed before the
    batch; `created` were inserted by it (nothing refers to them yet: nothing to read)."""

    def __call__(self, *, orders: "list[Order]", created: "list[Order]") -> None: ...


_settled_checks: dict[str, SettledCheck] = {}
_reactions: dict[str, OrderReaction] = {}
_prefetches: dict[str, BatchPrefetch] = {}


def attribution_settled_register(name: str, check: SettledCheck) -> None:
    _settled_checks[name] = check


def order_applied_register(name: str, reaction: OrderReaction) -> None:
    """`reaction(order=..., now=...)` runs after the order, its lines, returns and attribution
    were written, in registration order."""
    _reactions[name] = reaction


def batch_prefetch_register(name: str, prefetch: BatchPrefetch) -> None:
    _prefetches[name] = prefetch


def batch_prefetch(*, orders: "list[Order]", created: "list[Order]") -> None:
    """Let every floor above read ahead for a batch's orders (orders.services.batch)."""
    for prefetch in list(_prefetches.values()):
        prefetch(orders=orders, created=created)


def attribution_settled(order: "Order") -> bool:
    """Whether any floor above holds the order's attribution as settled (commissions: one of its
    commissions is confirmed). Unsettled when nobody registered: attribution is decided again."""
    return any(check(order) for check in _settled_checks.values())


def order_applied_react(*, order: "Order", now: datetime) -> dict[str, Mapping[str, int]]:
    """Run every registered reaction to the applied order; their counts, by name."""
    return {name: reaction(order=order, now=now) for name, reaction in list(_reactions.items())}
