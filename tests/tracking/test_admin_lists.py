"""The back office's link list asks the same number of queries whatever the number of links
and campaigns on the page, in its rows and in its campaign filter (a campaign's label carries
its brand's name: selected with it), for scoped staff and superusers alike."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CampaignFactory, InfluencerFactory
from tracking.models import Link

pytestmark = pytest.mark.django_db


def _links(brand: Any, count: int, start: int) -> None:
    for n in range(start, start + count):
        Link.objects.create(
            brand=brand,
            campaign=CampaignFactory(brand=brand),
            influencer=InfluencerFactory(),
            slug=f"list-{n}",
            destination_url="https://www.acme.example/",
        )


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:tracking_link_changelist"))
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_the_link_list_does_not_ask_per_row(
    who: str, brand_a: Any, manager_a: Any, verified_client: Any, django_user_model: Any
) -> None:
    staff = manager_a
    if who == "superuser":
        staff = django_user_model.objects.create_superuser(email="root@example.com", password="x-long-password-1")
    client = verified_client(staff)
    _links(brand_a, 2, 0)
    _queries(client)  # warm: the session, caches
    few = _queries(client)
    _links(brand_a, 6, 2)
    assert _queries(client) == few
    page = client.get(reverse("admin:tracking_link_changelist"))
    assert f"{brand_a.name} · " in page.content.decode()  # the filter's labels still name the brand
