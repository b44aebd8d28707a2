"""My links in the portal: make a link (errors shown in place, htmx or not), each link's numbers
over a period from the link rollups (not by counting clicks on the page view), one link's page
with its chart and QR code, turning a link off; only one's own."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from affiliates.assignments import campaign_assign_influencer
from reports.models import LinkRollup
from tests.factories import InfluencerFactory, MembershipFactory
from tracking.models import Link
from tracking.services import link_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(brand_a: Any, campaign_a: Any) -> Any:
    membership = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana Ríos"))
    campaign_assign_influencer(campaign=campaign_a, influencer=membership.influencer)
    return membership


def _url(brand: Any, name: str = "links", **kwargs: Any) -> str:
    return reverse(f"portal:{name}", kwargs={"brand_slug": brand.slug, **kwargs})


def _today(brand: Any) -> date:
    return timezone.localtime(timezone.now(), brand.tz).date()


def test_an_influencer_makes_a_link_to_a_product_page(client: Any, ana: Any, brand_a: Any) -> None:
    client.force_login(ana.influencer.user)
    response = client.post(
        _url(brand_a), {"destination_url": "https://www.acme.example/tenis/p", "label": "Reel tenis"}
    )
    link = Link.objects.get(influencer=ana.influencer)
    assert response.status_code == 302
    assert response["Location"] == _url(brand_a, "link", link_pk=link.pk)
    assert (link.label, link.origin, link.destination_url) == (
        "Reel tenis",
        "influencer",
        "https://www.acme.example/tenis/p",
    )
    page = client.get(_url(brand_a)).content.decode()
    assert f"/r/{link.slug}" in page
    assert "Reel tenis" in page


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("https://evil.example/p", "is not one of the brand&#x27;s store domains"),
        ("http://www.acme.example/p", "must start with https://"),
        ("https://www.acme.example/login?returnUrl=https://evil.example", "sends the shopper on to another site"),
        ("", "This field is required."),
    ],
)
def test_a_refused_address_is_explained_beside_the_field_and_makes_nothing(
    client: Any, ana: Any, brand_a: Any, address: str, words: str
) -> None:
    client.force_login(ana.influencer.user)
    response = client.post(_url(brand_a), {"destination_url": address, "label": "x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="destination_url-error"' in html
    assert words in html
    assert f'value="{address}"' in html or not address  # what they typed stays
    assert not Link.objects.exists()


def test_with_htmx_the_error_replaces_the_form_and_success_goes_to_the_new_link(
    client: Any, ana: Any, brand_a: Any
) -> None:
    client.force_login(ana.influencer.user)
    refused = client.post(_url(brand_a), {"destination_url": "https://evil.example/"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    html = refused.content.decode()
    assert html.lstrip().startswith('<section class="panel narrow" id="link-form">')
    assert 'data-testid="form-errors"' in html
    made = client.post(_url(brand_a), {"destination_url": "https://www.acme.example/p"}, HTTP_HX_REQUEST="true")
    link = Link.objects.get()
    assert made.status_code == 204
    assert made["HX-Redirect"] == _url(brand_a, "link", link_pk=link.pk)


def test_the_numbers_come_from_the_link_rollups_over_the_chosen_period(
    client: Any, ana: Any, brand_a: Any, campaign_a: Any, django_assert_max_num_queries: Any
) -> None:
    link = link_create(campaign=campaign_a, influencer=ana.influencer, label="Bio")
    today = _today(brand_a)
    for days_ago, clicks, orders, revenue, commission in ((0, 40, 2, 300_000, 30_000), (20, 10, 1, 100_000, 10_000)):
        LinkRollup.objects.create(
            brand=brand_a,
            day=today - timedelta(days=days_ago),
            link=link,
            campaign=campaign_a,
            influencer=ana.influencer,
            clicks_valid=clicks,
            unique_visitors=clicks,
            orders=orders,
            revenue_cents=revenue,
            commission_estimated_cents=commission,
        )
    client.force_login(ana.influencer.user)
    week = client.get(_url(brand_a), {"period": "7d"}).content.decode()
    assert 'data-testid="link-clicks">40<' in week
    assert 'data-testid="link-orders">2<' in week
    assert 'data-testid="link-conversion">5.0 %<' in week
    month = client.get(_url(brand_a), {"period": "30d"}).content.decode()
    assert 'data-testid="link-clicks">50<' in month
    assert 'data-testid="link-orders">3<' in month
    assert 'data-testid="link-conversion">6.0 %<' in month
    assert "4.000,00" in month or "4,000.00" in month  # COP 4.000 of sales
    detail = client.get(_url(brand_a, "link", link_pk=link.pk), {"period": "30d"}).content.decode()
    assert 'data-testid="kpi-clicks">50<' in detail
    assert 'data-testid="link-chart"' in detail
    assert "<svg" in detail  # the QR code
    # A page of many links costs the same few queries: nothing is counted per link.
    for i in range(10):
        link_create(campaign=campaign_a, influencer=ana.influencer, destination_url=f"https://www.acme.example/p{i}")
    with django_assert_max_num_queries(12):
        client.get(_url(brand_a), {"period": "90d"})


def test_a_link_page_in_spanish(client: Any, ana: Any, brand_a: Any, campaign_a: Any) -> None:
    link = link_create(campaign=campaign_a, influencer=ana.influencer, label="Bio")
    client.force_login(ana.influencer.user)
    client.cookies["django_language"] = "es"
    html = client.get(_url(brand_a, "link", link_pk=link.pk)).content.decode()
    assert "Conversión" in html
    assert "Descargar QR" in html
    refused = client.post(_url(brand_a), {"destination_url": "https://evil.example/p"}).content.decode()
    assert "no es uno de los dominios de la tienda" in refused


def test_only_ones_own_links(client: Any, ana: Any, brand_a: Any, campaign_a: Any) -> None:
    other = MembershipFactory(brand=brand_a).influencer
    campaign_assign_influencer(campaign=campaign_a, influencer=other)
    theirs = link_create(campaign=campaign_a, influencer=other, label="Ajeno")
    client.force_login(ana.influencer.user)
    assert "Ajeno" not in client.get(_url(brand_a)).content.decode()
    assert client.get(_url(brand_a, "link", link_pk=theirs.pk)).status_code == 404
    assert client.get(_url(brand_a, "link_qr", link_pk=theirs.pk)).status_code == 404
    assert client.post(_url(brand_a, "link_disable", link_pk=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_turning_a_link_off_keeps_its_page_and_stops_its_qr(
    client: Any, ana: Any, brand_a: Any, campaign_a: Any
) -> None:
    link = link_create(campaign=campaign_a, influencer=ana.influencer, label="Bio")
    client.force_login(ana.influencer.user)
    qr = client.get(_url(brand_a, "link_qr", link_pk=link.pk))
    assert qr["Content-Type"] == "image/svg+xml"
    assert client.get(_url(brand_a, "link_disable", link_pk=link.pk)).status_code == 405
    response = client.post(_url(brand_a, "link_disable", link_pk=link.pk))
    assert response.status_code == 302
    link.refresh_from_db()
    assert not link.is_active
    assert 'data-testid="link-off"' in client.get(_url(brand_a, "link", link_pk=link.pk)).content.decode()
    assert client.get(_url(brand_a, "link_qr", link_pk=link.pk)).status_code == 404
    assert 'data-testid="link-card"' not in client.get(_url(brand_a)).content.decode()  # active ones only


def test_a_suspended_influencer_sees_no_links_page(client: Any, ana: Any, brand_a: Any) -> None:
    type(ana).objects.filter(pk=ana.pk).update(status="suspended")
    client.force_login(ana.influencer.user)
    response = client.get(_url(brand_a))
    assert 'data-testid="link-form"' not in response.content.decode()
