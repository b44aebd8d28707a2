"""Sentry: unhandled errors of web requests and Celery tasks, with personal data scrubbed.

`send_default_pii=False` keeps the user's IP, cookies and headers out; the scrubber below also
removes, wherever they appear in an event (request body, local variables of each frame, extra
data), the fields that hold personal or secret data on this platform: who an influencer is
(email, document, phone, address, payout account) and every credential. tests/foundation/
test_sentry.py sends an error to a local fake Sentry and reads what arrived.
"""

from typing import Any

PII_FIELDS = [
    "email",
    "username",
    "login",
    "full_name",
    "first_name",
    "last_name",
    "display_name",
    "document",
    "document_number",
    "tax_id",
    "phone",
    "address",
    "birth_date",
    "instagram",
    "account_number",
    "bank_account",
    "transfer_key",
    "pix_key",
    "iban",
    "clabe",
    "cbu",
    "app_key",
    "app_token",
    "hook_token",
    "otp_token",
    "code",
    "x_hook_token",
    "x_vtex_api_appkey",
    "x_vtex_api_apptoken",
]


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0, release: str | None = None) -> None:
    import sentry_sdk  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with SENTRY_DSN)
    from sentry_sdk.integrations.celery import CeleryIntegration  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with SENTRY_DSN)
    from sentry_sdk.integrations.django import DjangoIntegration  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with SENTRY_DSN)
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with SENTRY_DSN)

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # recursive: a field nested in a dict (a form's cleaned_data in a frame's locals) too.
        event_scrubber=EventScrubber(denylist=[*DEFAULT_DENYLIST, *PII_FIELDS], recursive=True),
        before_send=_drop_user_identity,
    )


def _drop_user_identity(event: Any, _hint: Any) -> Any:
    """Keep only the user's id: enough to find them in the admin, nothing that names them."""
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return event
