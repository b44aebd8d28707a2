from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from brands.models import Brand
from brands.services import brand_hook_token_matches, brand_rotate_hook_token

pytestmark = pytest.mark.django_db


def test_a_new_brand_gets_a_random_hook_token(brand_a, brand_b):
    assert len(brand_a.hook_token) >= 40
    assert brand_a.hook_token != brand_b.hook_token
    assert brand_hook_token_matches(brand_a, brand_a.hook_token)
    assert not brand_hook_token_matches(brand_a, brand_b.hook_token)
    assert not brand_hook_token_matches(brand_a, "")
    assert not brand_hook_token_matches(brand_a, None)


def test_rotation_keeps_the_previous_token_working_for_the_grace_period(brand_a, manager_a):
    old = brand_a.hook_token
    brand = brand_rotate_hook_token(brand=brand_a, actor=manager_a, grace=timedelta(hours=2))

    brand = Brand.objects.get(pk=brand.pk)
    assert brand.hook_token != old
    assert brand_hook_token_matches(brand, brand.hook_token)
    assert brand_hook_token_matches(brand, old)
    with time_machine.travel(timezone.now() + timedelta(hours=2, seconds=1)):
        assert not brand_hook_token_matches(brand, old)
        assert brand_hook_token_matches(brand, brand.hook_token)
    event = AuditEvent.objects.get(action="brand.hook_token_rotated")
    assert event.actor_id == manager_a.pk
    assert old not in str(event.after)
    assert brand.hook_token not in str(event.after)


def test_a_second_rotation_retires_the_first_token_at_once(brand_a):
    first = brand_a.hook_token
    brand_rotate_hook_token(brand=brand_a)
    brand = brand_rotate_hook_token(brand=Brand.objects.get(pk=brand_a.pk))
    assert not brand_hook_token_matches(brand, first)


def test_secrets_are_encrypted_at_rest(brand_a):
    with connection.cursor() as cursor:
        cursor.execute("SELECT vtex_app_token, hook_token FROM campaigns_brand WHERE id = %s", [brand_a.pk])
        token, hook = cursor.fetchone()
    assert "test-app-token" not in token
    assert brand_a.hook_token not in hook


def _brand_post(brand, **overrides):
    data = {
        "name": brand.name,
        "slug": brand.slug,
        "is_active": "on",
        "vtex_account": brand.vtex_account,
        "vtex_environment": brand.vtex_environment,
        "new_vtex_app_key": "",
        "new_vtex_app_token": "",
        "currency": brand.currency,
        "country": brand.country,
        "time_zone": brand.time_zone,
        "store_domains": '["www.acme.example"]',
        "primary_color": brand.primary_color,
        "secondary_color": brand.secondary_color,
        "min_withdrawal_cents": brand.min_withdrawal_cents,
        "default_hold_days": brand.default_hold_days,
        "claim_deadline_days": brand.claim_deadline_days,
    }
    data.update(overrides)
    return data


def test_admin_never_shows_the_secrets_and_blank_keeps_them(brand_a, manager_a, verified_client):
    client = verified_client(manager_a)
    url = reverse("admin:brands_brand_change", args=[brand_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "test-app-token" not in html
    assert "vtexappkey-test-ABCDEF" not in html
    assert brand_a.hook_token not in html
    assert 'type="password"' in html

    response = client.post(url, _brand_post(brand_a, name="Acme Renamed"))
    assert response.status_code == 302, response.content.decode()[:2000]
    brand = Brand.objects.get(pk=brand_a.pk)
    assert brand.name == "Acme Renamed"
    assert brand.vtex_app_key == "vtexappkey-test-ABCDEF"
    assert brand.vtex_app_token == "test-app-token"


def test_admin_replaces_a_secret_when_typed_and_audits_without_the_value(brand_a, manager_a, verified_client):
    client = verified_client(manager_a)
    url = reverse("admin:brands_brand_change", args=[brand_a.pk])
    response = client.post(url, _brand_post(brand_a, new_vtex_app_token="brand-new-token"))
    assert response.status_code == 302
    assert Brand.objects.get(pk=brand_a.pk).vtex_app_token == "brand-new-token"
    event = AuditEvent.objects.filter(action="brand.updated").latest("id")
    assert event.after["secrets"] == ["vtex_app_token"]
    assert "brand-new-token" not in str(event.after)


def test_manager_rotates_the_hook_token_from_the_admin(brand_a, manager_a, verified_client):
    old = brand_a.hook_token
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:brands_brand_changelist"), {"action": "rotate_hook_token", "_selected_action": [brand_a.pk]}
    )
    assert response.status_code == 302
    brand = Brand.objects.get(pk=brand_a.pk)
    assert brand.hook_token != old
    assert brand.previous_hook_token == old


def test_manager_cannot_see_another_brand(brand_b, manager_a, verified_client):
    client = verified_client(manager_a)
    assert client.get(reverse("admin:brands_brand_change", args=[brand_b.pk])).status_code == 404
