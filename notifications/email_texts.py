"""Brand-edited wording of notification emails (issue 16): which emails can be reworded, the
placeholders each may use, and the message an influencer receives — the brand's text when it
has one for that email and language, else the shipped one (notifications.messages).

Placeholders are `{name}`-style and filled from the notification's own data, formatted for the
recipient's language (money as `COP 150.000,00` in Spanish). Only the listed names are allowed:
attribute or index access (`{name.__class__}`, `{codes[0]}`) is refused when the text is saved,
so a text can never reach anything but these values."""

from typing import Any

from django.utils import translation

from core.money import format_minor
from notifications.messages import Message, notification_message
from notifications.models import EmailText
from notifications.placeholders import EVENTS

#: what a manager previews with: a plausible notification of each kind
SAMPLE_PARAMS: dict[str, Any] = {
    "codes": ["MARIA10"],
    "reason": "…",
    "withdrawal": "W-12",
    "amount_cents": 150_000_00,
    "net_cents": 144_000_00,
    "transfer_reference": "TRX-0042",
    "version": 3,
    "previous_status": "pending",
    "order": "1415461749731-01",
}


def placeholder_values(*, params: dict[str, Any], brand_name: str, name: str) -> dict[str, str]:
    """The placeholders' values for one notification, in the active language."""
    currency = str(params.get("currency") or "")

    def money(key: str) -> str:
        return format_minor(int(params.get(key) or 0), currency)

    return {
        "name": name,
        "brand": brand_name,
        "codes": ", ".join(params.get("codes") or []),
        "reason": str(params.get("reason") or ""),
        "withdrawal": str(params.get("withdrawal") or ""),
        "amount": money("amount_cents"),
        "net": money("net_cents"),
        "transfer_reference": str(params.get("transfer_reference") or "-"),
        "version": str(params.get("version") or ""),
        "order": str(params.get("order") or ""),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    return text.format_map(values)


def email_text_for(*, brand_id: int, event: str, language: str) -> EmailText | None:
    return EmailText.objects.filter(brand_id=brand_id, event=event, language=language, is_active=True).first()


def email_text_fill(text: EmailText, *, params: dict[str, Any], brand_name: str, name: str) -> Message:
    """`text` with its placeholders filled for one notification, in the active language."""
    values = placeholder_values(params=params, brand_name=brand_name, name=name)
    return Message(_fill(text.subject, values), _fill(text.body, values))


def email_message(*, brand: Any, event: str, params: dict[str, Any], language: str, name: str) -> Message:
    """What the email of a notification says, in `language`: the brand's text when it has an
    active one for this email and language, else the shipped text."""
    with translation.override(language):
        custom = email_text_for(brand_id=brand.pk, event=event, language=language) if event in EVENTS else None
        if custom is None:
            return notification_message(event=event, params=params, brand=brand.name)
        return email_text_fill(custom, params=params, brand_name=brand.name, name=name)


def email_text_preview(*, text: EmailText) -> Message:
    """The text filled with sample values, as an influencer reading `text.language` would see it."""
    with translation.override(text.language):
        params = {**SAMPLE_PARAMS, "currency": text.brand.currency}
        return email_text_fill(text, params=params, brand_name=text.brand.name, name="María Gómez")


def email_text_default(*, brand: Any, event: str, language: str) -> Message:
    """The shipped wording of `event` in `language`, with placeholders where values go: where a
    manager starts from."""
    with translation.override(language):
        return notification_message(event=event, params={**SAMPLE_PARAMS, "currency": brand.currency}, brand=brand.name)
