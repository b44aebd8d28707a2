"""Which notification emails a brand may reword and the placeholders each may use; the check
a text passes before it is saved (no model here: the model's validation imports this)."""

from string import Formatter
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

#: the emails a brand may reword, with the placeholders each one fills
EVENTS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "influencer.approved": (gettext_lazy("Application approved"), ("name", "brand", "codes")),
    "influencer.rejected": (gettext_lazy("Application not approved"), ("name", "brand", "reason")),
    "influencer.suspended": (gettext_lazy("Membership suspended"), ("name", "brand", "reason")),
    "influencer.blocked": (gettext_lazy("Membership closed"), ("name", "brand", "reason")),
    "withdrawal.requested": (gettext_lazy("Withdrawal requested"), ("name", "brand", "withdrawal", "amount")),
    "withdrawal.approved": (gettext_lazy("Withdrawal approved"), ("name", "brand", "withdrawal", "amount", "net")),
    "withdrawal.rejected": (
        gettext_lazy("Withdrawal rejected"),
        ("name", "brand", "withdrawal", "amount", "reason"),
    ),
    "withdrawal.paid": (
        gettext_lazy("Withdrawal paid"),
        ("name", "brand", "withdrawal", "amount", "net", "transfer_reference"),
    ),
    "withdrawal.failed": (gettext_lazy("Withdrawal failed"), ("name", "brand", "withdrawal", "amount", "reason")),
    "policy.published": (gettext_lazy("New terms or privacy version"), ("name", "brand", "version")),
    "claim.submitted": (gettext_lazy("Missing-order claim received"), ("name", "brand", "order")),
    "claim.accepted": (gettext_lazy("Missing-order claim accepted"), ("name", "brand", "order", "reason")),
    "claim.rejected": (gettext_lazy("Missing-order claim not accepted"), ("name", "brand", "order", "reason")),
}
EVENT_CHOICES = [(event, label) for event, (label, _names) in EVENTS.items()]


def placeholders_for(event: str) -> tuple[str, ...]:
    return EVENTS[event][1] if event in EVENTS else ()


def _fields(text: str) -> list[str]:
    try:
        return [field for _literal, field, _spec, _conv in Formatter().parse(text) if field is not None]
    except ValueError as exc:  # a lone "{" or "}"
        raise ValidationError(
            _("Braces are only for placeholders such as {name}; write a single brace as {{ or }}."),
            code="bad_braces",
        ) from exc


def email_text_check(*, event: str, subject: str, body: str) -> None:
    """ValidationError naming every placeholder the email cannot fill."""
    if event not in EVENTS:
        raise ValidationError(_("Choose an email from the list."), code="unknown_event")
    allowed = placeholders_for(event)
    unknown = sorted({f for text in (subject, body) for f in _fields(text) if f not in allowed})
    if unknown:
        raise ValidationError(
            _("This email cannot fill %(unknown)s. Use only: %(allowed)s.")
            % {
                "unknown": ", ".join(f"{{{f}}}" for f in unknown),
                "allowed": ", ".join(f"{{{f}}}" for f in allowed),
            },
            code="unknown_placeholder",
        )
