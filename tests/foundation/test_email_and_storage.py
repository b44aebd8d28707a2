import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import two_factor_reset
from audit.models import AuditEvent
from core.storage import private_storage
from integrations.email import email_render

pytestmark = pytest.mark.django_db


def test_two_factor_reset_emails_the_person_in_their_language(manager_a, superuser, django_capture_on_commit_callbacks):
    manager_a.preferred_language = "pt-br"
    manager_a.save()
    TOTPDevice.objects.create(user=manager_a, name="phone", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        removed = two_factor_reset(user=manager_a, actor=superuser)
    assert removed == 1
    assert not TOTPDevice.objects.filter(user=manager_a).exists()
    assert AuditEvent.objects.filter(action="staff.two_factor_reset", target_id=str(manager_a.pk)).exists()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager_a.email]
    assert superuser.email in message.body
    assert message.alternatives[0][1] == "text/html"


def test_no_email_leaves_when_the_transaction_rolls_back(manager_a, superuser, django_capture_on_commit_callbacks):
    TOTPDevice.objects.create(user=manager_a, name="phone", confirmed=True)

    def reset_then_fail() -> None:
        with transaction.atomic():
            two_factor_reset(user=manager_a, actor=superuser)
            raise RuntimeError("boom")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        reset_then_fail()
    assert mail.outbox == []
    assert TOTPDevice.objects.filter(user=manager_a).exists()


@pytest.mark.parametrize("language", ["es", "en", "pt-br"])
def test_email_templates_render_in_every_language(language):
    subject, text, html = email_render(
        template="two_factor_reset", context={"name": "Ana", "actor": "root@example.com"}, language=language
    )
    assert subject
    assert "root@example.com" in text
    assert "<html" in html


def test_private_files_have_no_public_url():
    storage = private_storage()
    name = storage.save("kyc/test.pdf", ContentFile(b"%PDF-1.4 test"))
    try:
        with pytest.raises(ValueError, match="not accessible via a URL"):
            storage.url(name)
    finally:
        storage.delete(name)
