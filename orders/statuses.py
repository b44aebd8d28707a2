"""Labels for VTEX order workflow statuses (the API values, docs: VTEX_API_NOTES.md §1.5), so
people see "Payment approved" instead of `payment-approved`. Where VTEX's admin has no label
we use a plain description of the step."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

VTEX_STATUS_LABELS: dict[str, Promise] = {
    "order-created": _("Order created"),
    "order-accepted": _("Order accepted"),
    "on-order-completed": _("Order completed"),
    "on-order-completed-ffm": _("Order completed"),
    "payment-pending": _("Payment pending"),
    "payment-approved": _("Payment approved"),
    "request-cancel": _("Cancellation requested"),
    "cancel": _("Canceling"),
    "canceled": _("Canceled"),
    "window-to-change-payment": _("Window to change payment"),
    "window-to-change-seller": _("Window to change seller"),
    "waiting-for-authorization": _("Waiting for seller confirmation"),
    "waiting-for-fulfillment": _("Waiting for fulfillment"),
    "waiting-ffmt-authorization": _("Waiting for marketplace authorization"),
    "waiting-for-manual-authorization": _("Waiting for fulfillment authorization"),
    "authorize-fulfillment": _("Authorize fulfillment"),
    "window-to-cancel": _("Cancellation window"),
    "ready-for-handling": _("Ready for handling"),
    "start-handling": _("Start handling"),
    "handling": _("Handling shipping"),
    "ready-for-invoicing": _("Ready for invoicing"),
    "invoice": _("Verifying invoice"),
    "invoiced": _("Invoiced"),
    "cancellation-requested": _("Cancellation requested"),
    "waiting-for-mkt-authorization": _("Waiting for marketplace authorization"),
    "waiting-seller-handling": _("Waiting for seller handling"),
}


def vtex_status_label(status: str | None) -> str:
    """The translated label of a VTEX status; an unknown status shows as sent."""
    label = VTEX_STATUS_LABELS.get(status or "")
    return str(label) if label is not None else (status or "")
