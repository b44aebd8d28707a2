"""Sign-in and registration throttles answer 429 with Retry-After, and a stranger failing to
sign in as someone from elsewhere does not lock that person out."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.affiliates.factories import policies_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str, ip: str) -> int:
    response = client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip)
    return response


def test_repeated_wrong_passwords_get_429_with_retry_after(settings):
    UserFactory(email="ana@example.com")
    client = Client()
    codes = [_login(client, "ana@example.com", "wrong", "198.51.100.7").status_code for _ in range(12)]
    assert codes[0] == 200  # the form again, with the generic error
    last = _login(client, "ana@example.com", "wrong", "198.51.100.7")
    assert last.status_code == 429
    assert 0 < int(last["Retry-After"]) <= 300
    assert 429 in codes[:12]


def test_an_attacker_elsewhere_does_not_lock_the_real_person_out():
    UserFactory(email="ana@example.com")
    attacker = Client()
    for _ in range(8):
        _login(attacker, "ana@example.com", "guess", "203.0.113.66")
    assert _login(attacker, "ana@example.com", "guess", "203.0.113.66").status_code == 429
    real = Client()
    response = _login(real, "ana@example.com", PASSWORD, "198.51.100.20")
    assert response.status_code == 302  # signed in


def test_join_throttle_answers_429_with_retry_after(settings, brand_a):
    policies_for(brand_a)
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    client = Client()
    url = reverse("affiliates:join", kwargs={"brand_slug": brand_a.slug})
    statuses = [client.post(url, {}, REMOTE_ADDR="198.51.100.9").status_code for _ in range(3)]
    assert statuses[:2] == [400, 400]
    throttled = client.post(url, {}, REMOTE_ADDR="198.51.100.9")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
