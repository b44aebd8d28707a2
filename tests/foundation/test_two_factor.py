import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def code_for(secret_b32: str) -> str:
    padded = secret_b32 + "=" * (-len(secret_b32) % 8)
    return f"{totp(base64.b32decode(padded), step=30, t0=0, digits=6, drift=0):06d}"


def test_admin_requires_login_then_second_factor(client, manager_a):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    login_redirect = client.get(response["Location"])
    assert login_redirect["Location"].startswith(reverse("account_login"))

    client.force_login(manager_a)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor"))
    assert b'data-testid="totp-secret"' in response.content


def test_password_login_sends_staff_to_two_factor(client, manager_a):
    response = client.post(reverse("account_login"), {"login": manager_a.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_enrolment_with_qr_code_and_valid_token_opens_the_admin(client, manager_a):
    client.force_login(manager_a)
    page = client.get(reverse("two_factor"), {"next": "/admin/"})
    assert b"<svg" in page.content
    secret = re.search(rb'data-testid="totp-secret">([A-Z2-7]+)<', page.content).group(1).decode()

    response = client.post(reverse("two_factor"), {"token": code_for(secret), "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert TOTPDevice.objects.get(user=manager_a).confirmed
    assert AuditEvent.objects.filter(action="auth.two_factor_enrolled", actor=manager_a).exists()
    assert client.get(reverse("admin:index")).status_code == 200


def test_wrong_token_does_not_enrol(client, manager_a):
    client.force_login(manager_a)
    client.get(reverse("two_factor"))
    response = client.post(reverse("two_factor"), {"token": "000000"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=manager_a, confirmed=True).exists()
    assert client.get(reverse("admin:index")).status_code == 302


def test_repeated_wrong_tokens_are_throttled(client, manager_a):
    device = TOTPDevice.objects.create(user=manager_a, name="phone", confirmed=True)
    client.force_login(manager_a)
    client.post(reverse("two_factor"), {"token": "000000"})
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # even the right code is refused while throttled (the wait doubles after each failure)
    good = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=0):06d}"
    response = client.post(reverse("two_factor"), {"token": good})
    assert response.status_code == 400
    assert "Wait" in response.content.decode() or "Espera" in response.content.decode()


def test_verified_staff_reaches_admin_with_existing_device(client, manager_a):
    device = TOTPDevice.objects.create(user=manager_a, name="phone", confirmed=True)
    client.force_login(manager_a)
    page = client.get(reverse("two_factor"))
    assert b"totp-secret" not in page.content  # no secret is shown again
    token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=0):06d}"
    assert client.post(reverse("two_factor"), {"token": token}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_non_staff_never_reach_admin(client, influencer_a):
    client.force_login(influencer_a.user)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")


def test_next_parameter_cannot_redirect_off_site(client, manager_a):
    device = TOTPDevice.objects.create(user=manager_a, name="phone", confirmed=True)
    client.force_login(manager_a)
    token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=0):06d}"
    response = client.post(reverse("two_factor"), {"token": token, "next": "https://evil.example/"})
    assert response["Location"] == reverse("admin:index")


LOCKED = "Too many failed login attempts"


def test_login_is_rate_limited_without_revealing_accounts(manager_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    answers = {}
    for email, ip in [(manager_a.email, "203.0.113.1"), ("nobody@example.com", "203.0.113.2")]:
        answers[email] = [
            LOCKED
            in client.post(
                reverse("account_login"), {"login": email, "password": "wrong"}, REMOTE_ADDR=ip
            ).content.decode()
            for _ in range(6)
        ]
    # The real and the unknown account get exactly the same answers: five plain errors, then locked.
    assert answers[manager_a.email] == answers["nobody@example.com"] == [False] * 5 + [True]
    # Even the right password is refused while the account's key is locked, and no session starts.
    response = client.post(
        reverse("account_login"), {"login": manager_a.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.1"
    )
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_one_address_guessing_many_accounts_is_locked_out(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    locked = [
        LOCKED
        in client.post(
            reverse("account_login"), {"login": f"guess{i}@example.com", "password": "x"}, REMOTE_ADDR="198.51.100.3"
        ).content.decode()
        for i in range(11)
    ]
    assert locked == [False] * 10 + [True]
