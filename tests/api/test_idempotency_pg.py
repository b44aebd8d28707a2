"""Two identical POSTs with one Idempotency-Key at the same moment: the service runs once."""

import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from accounts.services import api_key_create
from codes import apis as code_apis
from codes.models import Code
from tests.api.conftest import auth
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_requests_with_one_key_run_the_service_once(brand_a, monkeypatch):
    campaign = CampaignFactory(brand=brand_a, utm_source="mgm")
    influencer = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="approved").influencer
    code = Code.objects.create(brand=brand_a, campaign=campaign, influencer=influencer, text="RACE10")
    _key, secret = api_key_create(brand=brand_a, name="ERP", scopes=["codes:write", "codes:read"])
    calls: list[int] = []
    real = code_apis.code_archive

    def slow_archive(**kwargs: Any) -> Any:
        calls.append(1)
        time.sleep(0.6)  # long enough for the twin to arrive while this one runs
        return real(**kwargs)

    monkeypatch.setattr(code_apis, "code_archive", slow_archive)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            response = Client().post(f"/api/v1/codes/{code.pk}/archive", **auth(secret, **{"Idempotency-Key": "same"}))
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(statuses) == [200, 409]
    # once the first finished, the same request is replayed
    replay = Client().post(f"/api/v1/codes/{code.pk}/archive", **auth(secret, **{"Idempotency-Key": "same"}))
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert len(calls) == 1
