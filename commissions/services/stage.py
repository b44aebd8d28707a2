"""What the order's VTEX status means for its commissions: the states and the status sets
behind them (docs/orders.md)."""

from commissions.models import Commission
from orders.models import Order

State = Commission.State


CANCELED_STATUSES = frozenset({"canceled"})


CONFIRMED_STATUSES = frozenset({"invoiced"})


def order_commission_stage(order: "Order") -> str:
    """What the order's VTEX status means for its commissions: estimated, confirmed or reversed.
    `cancel` (in progress) and `request-cancel` change nothing until VTEX says `canceled`."""
    if order.status in CANCELED_STATUSES:
        return State.REVERSED
    if order.status in CONFIRMED_STATUSES:
        return State.CONFIRMED
    return State.ESTIMATED
