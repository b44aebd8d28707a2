"""Self-serve links (issue 19): what an influencer may link to (https, the brand's store
domains, no onward redirect), in which campaigns, how many; the default link approval issues
like the code; links a manager or the influencer turned off."""

from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client

from affiliates.assignments import campaign_assign_influencer
from affiliates.services.decisions import membership_approve, membership_suspend
from audit.models import AuditEvent
from campaigns.models import Campaign
from core.errors import ApplicationError
from tests.affiliates.conftest import applicant, policies_a  # noqa: F401  (fixtures)
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory
from tracking import services as tracking_services
from tracking.destinations import DestinationRefused, destination_check
from tracking.models import Link
from tracking.services import link_create, link_create_by_influencer, link_deactivate, links_issue_on_approval

pytestmark = pytest.mark.django_db

HOSTS = ["www.acme.example"]


@pytest.mark.parametrize(
    "url",
    [
        "http://www.acme.example/p/sneaker",  # not https
        "https://www.acme.example.evil.com/p",  # look-alike host
        "https://evil.example/p",  # off the allowlist
        "https://www.acme.example/login?returnUrl=https://evil.example/",  # onward redirect
        "https://www.acme.example/login?returnUrl=//evil.example/",  # scheme-relative
        "https://www.acme.example/login?next=https:evil.example",  # browsers read it as https://evil
        "https://www.acme.example/login?next=%2F%5Cevil.example",  # /\ is // to a browser
        "https://www.acme.example/p#javascript:alert(1)",
        "https://user@www.acme.example/p",
    ],
)
def test_an_influencers_address_must_be_https_on_the_store_without_onward_redirects(url: str) -> None:
    with pytest.raises(DestinationRefused) as refused:
        destination_check(url, hosts=HOSTS, https_only=True)
    assert refused.value.extra == {"field": "destination_url"}


@pytest.mark.parametrize(
    "url",
    [
        "https://www.acme.example/tenis-runner/p",
        "https://www.acme.example/calzado/tenis?fq=C:/1000001/&map=c,c&O=OrderByPriceASC",  # VTEX filters
        "https://www.acme.example/login?returnUrl=https://www.acme.example/cart",  # onward, but home
    ],
)
def test_product_and_collection_pages_of_the_store_are_accepted(url: str) -> None:
    assert destination_check(url, hosts=HOSTS, https_only=True) == url


def test_managers_may_still_link_an_http_page() -> None:
    assert destination_check("http://www.acme.example/p", hosts=HOSTS) == "http://www.acme.example/p"


@pytest.fixture
def member(brand_a: Any, campaign_a: Any) -> Any:
    influencer = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana")).influencer
    campaign_assign_influencer(campaign=campaign_a, influencer=influencer)
    return influencer


def test_an_influencer_links_a_product_page_in_their_campaign(member: Any, brand_a: Any, campaign_a: Any) -> None:
    link = link_create_by_influencer(
        influencer=member,
        brand=brand_a,
        destination_url=" https://www.acme.example/tenis-runner/p ",
        label=" Reel ",
        actor=member.user,
    )
    assert (link.campaign, link.origin, link.label) == (campaign_a, Link.Origin.INFLUENCER, "Reel")
    assert link.destination_url == "https://www.acme.example/tenis-runner/p"
    audit = AuditEvent.objects.get(action="tracking.link_created", target_id=str(link.pk))
    assert audit.after["origin"] == "influencer"


def test_a_refused_address_makes_no_link(member: Any, brand_a: Any) -> None:
    with pytest.raises(DestinationRefused, match="not one of the brand's store domains"):
        link_create_by_influencer(
            influencer=member, brand=brand_a, destination_url="https://evil.example/p", actor=member.user
        )
    assert not Link.objects.exists()
    assert not AuditEvent.objects.filter(action="tracking.link_created").exists()


def test_with_two_campaigns_the_influencer_chooses_one_of_theirs(
    member: Any, brand_a: Any, campaign_a: Any, brand_b: Any
) -> None:
    second = CampaignFactory(brand=brand_a, name="Invierno")
    campaign_assign_influencer(campaign=second, influencer=member)
    foreign = CampaignFactory(brand=brand_b)
    not_mine = CampaignFactory(brand=brand_a)
    url = "https://www.acme.example/p"
    with pytest.raises(ApplicationError) as unchosen:
        link_create_by_influencer(influencer=member, brand=brand_a, destination_url=url, actor=None)
    assert unchosen.value.extra == {"field": "campaign"}
    for campaign in (foreign, not_mine):
        with pytest.raises(ApplicationError, match="running campaigns"):
            link_create_by_influencer(
                influencer=member, brand=brand_a, destination_url=url, campaign_id=campaign.pk, actor=None
            )
    assert not Link.objects.exists()
    link = link_create_by_influencer(
        influencer=member, brand=brand_a, destination_url=url, campaign_id=second.pk, actor=None
    )
    assert link.campaign == second


def test_no_running_campaign_no_link(member: Any, brand_a: Any, campaign_a: Any) -> None:
    Campaign.objects.filter(pk=campaign_a.pk).update(status=Campaign.Status.PAUSED)
    with pytest.raises(ApplicationError, match="no running campaign"):
        link_create_by_influencer(
            influencer=member, brand=brand_a, destination_url="https://www.acme.example/p", actor=None
        )
    assert not Link.objects.exists()


def test_active_links_are_capped_per_brand(member: Any, brand_a: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(tracking_services, "MAX_ACTIVE_LINKS_PER_BRAND", 2)
    made = [
        link_create_by_influencer(
            influencer=member, brand=brand_a, destination_url=f"https://www.acme.example/p{i}", actor=None
        )
        for i in range(2)
    ]
    with pytest.raises(ApplicationError, match="most allowed"):
        link_create_by_influencer(
            influencer=member, brand=brand_a, destination_url="https://www.acme.example/p3", actor=None
        )
    assert Link.objects.count() == 2
    link_deactivate(link=made[0])  # turning one off frees its place
    link_create_by_influencer(
        influencer=member, brand=brand_a, destination_url="https://www.acme.example/p3", actor=None
    )
    assert Link.objects.filter(is_active=True).count() == 2


def test_approval_issues_a_default_link_per_campaign_once(
    applicant: Any,  # noqa: F811
    campaign_a: Any,
    manager_a: Any,
    fake_vtex: Any,
) -> None:
    membership = applicant()
    membership_approve(membership=membership, actor=manager_a, campaigns=[campaign_a])
    link = Link.objects.get(influencer=membership.influencer)
    assert (link.campaign, link.origin, link.is_active) == (campaign_a, Link.Origin.APPROVAL, True)
    assert link.destination_url == f"https://{membership.brand.store_domains[0]}/"
    # Suspended and approved again: the same link, not a second one.
    membership_suspend(membership=membership, actor=manager_a, reason="Revisión")
    membership_approve(membership=membership, actor=manager_a)
    assert list(Link.objects.filter(influencer=membership.influencer)) == [link]
    assert links_issue_on_approval(brand_id=membership.brand_id, influencer_id=membership.influencer_id) == [link]


def test_the_database_holds_one_approval_link_per_campaign(member: Any, campaign_a: Any) -> None:
    Link.objects.create(
        brand=campaign_a.brand,
        campaign=campaign_a,
        influencer=member,
        slug="one",
        destination_url="https://www.acme.example/",
        origin=Link.Origin.APPROVAL,
    )
    with pytest.raises(IntegrityError):
        link_create(campaign=campaign_a, influencer=member, origin=Link.Origin.APPROVAL)


def test_approval_of_a_brand_without_store_domains_issues_no_link_and_still_approves(
    applicant: Any,  # noqa: F811
    campaign_a: Any,
    manager_a: Any,
    fake_vtex: Any,
) -> None:
    membership = applicant()
    type(membership.brand).objects.filter(pk=membership.brand_id).update(store_domains=[])
    approved = membership_approve(membership=membership, actor=manager_a, campaigns=[campaign_a])
    assert approved.status == "approved"
    assert not Link.objects.exists()


def test_a_link_turned_off_answers_404(client: Client, member: Any, brand_a: Any) -> None:
    link = link_create_by_influencer(
        influencer=member, brand=brand_a, destination_url="https://www.acme.example/p", actor=None
    )
    link_deactivate(link=link)
    assert client.get(f"/r/{link.slug}").status_code == 404
