from io import StringIO

import pytest
from django.core.management import call_command

from campaigns.models import Campaign
from codes.models import Code

pytestmark = pytest.mark.django_db


def test_seed_demo_issues_codes_idempotently_without_vtex(settings, django_capture_on_commit_callbacks):
    settings.VTEX_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens: VTEX unreachable
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    with django_capture_on_commit_callbacks(execute=True):  # the syncs queued after each commit
        call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=out)

    lanzamiento = Campaign.objects.get(slug="lanzamiento")
    assert lanzamiento.rules.get().rate_percent == 10
    assert lanzamiento.rules.get().dimension == "all"
    assert lanzamiento.tiers.count() == 2
    template = Campaign.objects.get(is_template=True)
    assert template.rules.filter(dimension="sku").exists()
    assert template.tiers.count() == 2
    codes = Code.objects.filter(campaign=lanzamiento)
    assert codes.count() == 3
    assert set(codes.values_list("text", flat=True)) == {"MARIAGOMEZ10", "JOAOSILVA10", "LUCIAPEREZ10"}
    # no credentials on the demo brand: the sync fails visibly, and seeding carried on
    assert set(codes.values_list("sync_status", flat=True)) == {"failed"}
    assert "no VTEX app key and token" in codes.first().last_sync_error
    assert "MARIAGOMEZ10" in out.getvalue()
