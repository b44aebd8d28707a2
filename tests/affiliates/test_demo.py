import io

import pytest
from django.core.management import call_command

from affiliates.models import Membership, PolicyDocument
from codes.models import Code


@pytest.mark.django_db
def test_demo_seed_uses_the_services_and_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert PolicyDocument.objects.filter(brand__slug="demo").count() == 2
    assert Membership.objects.filter(brand__slug="demo", status="approved").count() == 3
    assert Membership.objects.filter(brand__slug="demo", status="pending").count() == 1
    assert Code.objects.filter(brand__slug="demo").count() >= 3
    assert Membership.objects.get(influencer__user__email="sofia@demo.mgm").kyc_documents.count() == 1
