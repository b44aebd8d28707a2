"""The event types a brand's endpoint can subscribe to. Each is published through core.events
by the app that owns the fact, inside the transaction that makes it (docs/webhooks.md)."""

from django.utils.translation import gettext_lazy as _

EVENT_TYPES: dict[str, object] = {
    "influencer.applied": _("An influencer applied to the brand (membership pending)."),
    "influencer.approved": _("A membership was approved."),
    "order.attributed": _("An order was attributed to an influencer."),
    "commission.estimated": _("A commission was estimated for an order line."),
    "commission.confirmed": _("A commission was confirmed (order paid/invoiced)."),
    "commission.reversed": _("A commission was reversed, wholly or in part (cancellation, return)."),
    "withdrawal.requested": _("An influencer requested a withdrawal."),
    "withdrawal.approved": _("Finance approved a withdrawal."),
    "withdrawal.paid": _("A withdrawal was paid."),
    "withdrawal.failed": _("A withdrawal's transfer failed."),
    "payout_batch.created": _("A payout batch was created for a period."),
    "claim.submitted": _("An influencer claimed a missing order."),
    "claim.accepted": _("A claim was accepted: the order is attributed to the claimant."),
    "claim.rejected": _("A claim was rejected with a reason."),
}


def event_type_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} — {label}") for name, label in EVENT_TYPES.items()]
