import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from brands.services import brand_hook_token_matches

pytestmark = pytest.mark.django_db


def test_prints_the_hook_url_and_token(brand_a, capsys):
    call_command("vtex_hook_token", "--brand", brand_a.slug)
    out = capsys.readouterr().out
    assert f"/api/v1/webhooks/vtex/{brand_a.slug}/orders/" in out
    assert f"Token:        {brand_a.hook_token}" in out


def test_rotate_issues_a_new_token_and_keeps_the_old_one_for_the_grace_period(brand_a, capsys):
    old = brand_a.hook_token
    call_command("vtex_hook_token", "--brand", brand_a.slug, "--rotate")
    brand_a.refresh_from_db()
    assert brand_a.hook_token != old
    assert brand_a.hook_token in capsys.readouterr().out
    assert brand_hook_token_matches(brand_a, old)
    assert brand_hook_token_matches(brand_a, brand_a.hook_token)
    assert AuditEvent.objects.filter(target_id=str(brand_a.pk), action__contains="hook_token").exists()
