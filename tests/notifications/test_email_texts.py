"""Managers word the brand's notification emails per language (issue 16): the brand's text goes
out with its placeholders filled in the influencer's language; without one, or in another
language, the shipped text goes; a text with a placeholder the email cannot fill is refused."""

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from notifications.email_texts import email_text_preview
from notifications.models import EmailText
from payments.services import withdrawal_reject, withdrawal_request_create

pytestmark = pytest.mark.django_db


def _text(brand: Any, **overrides: Any) -> EmailText:
    values = {
        "brand": brand,
        "event": "withdrawal.requested",
        "language": "es",
        "subject": "¡{name}, recibimos tu retiro {withdrawal}!",
        "body": "Reservamos {amount} mientras finanzas lo revisa. Un abrazo de {brand}.",
    }
    values.update(overrides)
    text = EmailText(**values)
    text.full_clean()
    text.save()
    return text


def test_the_brands_text_is_sent_filled_in_the_influencers_language(
    brand_a: Any, funded: Any, finance_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    funded.user.preferred_language = "es"
    funded.user.save(update_fields=["preferred_language"])
    _text(brand_a)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawal_request_create(
            influencer=funded, brand=brand_a, amount="1000", requested_by=funded.user
        )
        withdrawal_reject(withdrawal=withdrawal, actor=finance_a, reason="Fuera de plazo")
    requested, rejected = mail.outbox
    assert f"{funded.display_name}, recibimos tu retiro {withdrawal}!" in requested.subject
    assert "Reservamos COP 1.000,00 mientras finanzas lo revisa. Un abrazo de Acme." in requested.body
    # No brand text for rejections: the shipped Spanish text.
    assert "Fuera de plazo" in rejected.body
    assert "Reservamos" not in rejected.body


def test_another_language_or_an_inactive_text_gets_the_shipped_text(
    brand_a: Any, funded: Any, django_capture_on_commit_callbacks: Any
) -> None:
    funded.user.preferred_language = "en"
    funded.user.save(update_fields=["preferred_language"])
    _text(brand_a)  # Spanish only
    _text(brand_a, language="pt-br", subject="Recebemos {withdrawal}", body="Oi", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    [email] = mail.outbox
    assert "Reservamos" not in email.body
    assert "received your withdrawal" in email.body


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Hola {nombre}", "texto"),  # not a placeholder of this email
        ("Hola", "{name.__class__}"),  # attribute access
        ("Hola", "{codes[0]}"),  # index access, and codes is not this email's
        ("Hola {", "texto"),  # a lone brace
    ],
)
def test_a_text_the_email_cannot_fill_is_refused_with_the_allowed_placeholders(
    brand_a: Any, subject: str, body: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _text(brand_a, subject=subject, body=body)
    assert "{" in str(refused.value)
    assert not EmailText.objects.exists()


def test_the_preview_fills_sample_values_in_the_texts_language(brand_a: Any) -> None:
    text = _text(brand_a, language="pt-br", subject="Saque {withdrawal}", body="Valor: {amount}")
    preview = email_text_preview(text=text)
    assert preview.title == "Saque W-12"
    assert preview.body == "Valor: COP 150.000,00"


def test_a_manager_writes_and_previews_a_text_in_the_admin_scoped_to_their_brand(
    verified_client: Any, manager_a: Any, brand_a: Any, brand_b: Any
) -> None:
    client = verified_client(manager_a)
    add_url = reverse("admin:notifications_emailtext_add")
    form = client.get(add_url)
    assert form.status_code == 200
    assert "{transfer_reference}" in form.content.decode()  # the placeholders of each email

    response = client.post(
        add_url,
        {
            "brand": brand_a.pk,
            "event": "withdrawal.paid",
            "language": "es",
            "is_active": "on",
            "subject": "Pagamos {withdrawal}",
            "body": "Recibirás {net}. Referencia: {transfer_reference}.",
            "_continue": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    text = EmailText.objects.get()
    page = client.get(reverse("admin:notifications_emailtext_change", args=[text.pk])).content.decode()
    assert 'data-testid="email-preview"' in page
    assert "Recibirás COP 144.000,00. Referencia: TRX-0042." in page
    assert 'data-testid="shipped-text"' in page
    assert AuditEvent.objects.filter(action="notifications.email_text_saved").count() == 1

    # Another brand's text: the manager can neither pick that brand nor save for it.
    refused = client.post(
        add_url,
        {"brand": brand_b.pk, "event": "withdrawal.paid", "language": "en", "subject": "x", "body": "y"},
    )
    assert refused.status_code == 200
    assert EmailText.objects.count() == 1
