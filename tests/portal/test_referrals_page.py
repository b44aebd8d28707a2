"""My referrals in the portal: the recruiting link (remembering this browser as the referrer's),
who applied through it, what each earned; only one's own. And the admin's referral tree,
scoped to the staff member's brands."""

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from affiliates.models import Membership, RecruitingLink, Referral
from affiliates.referrals import DEVICE_COOKIE, device_hash
from campaigns.models import ReferralProgram
from commissions.models import ReferralCommission
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(campaign_a: Any) -> ReferralProgram:
    return ReferralProgram.objects.create(campaign=campaign_a, enabled=True, rate_percent=Decimal("10"), months=6)


@pytest.fixture
def ana(brand_a: Any) -> Membership:
    return MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana Ríos"))


def _page(brand: Any) -> str:
    return reverse("portal:referrals", kwargs={"brand_slug": brand.slug})


def test_the_page_gives_a_recruiting_link_and_remembers_the_browser(client: Any, ana: Membership, program: Any) -> None:
    client.force_login(ana.influencer.user)
    response = client.get(_page(ana.brand))
    assert response.status_code == 200
    link = RecruitingLink.objects.get(influencer=ana.influencer)
    html = response.content.decode()
    assert f"ref={link.token}" in html
    assert "<svg" in html  # the QR
    cookie = response.cookies[DEVICE_COOKIE].value
    assert link.device_hashes == [device_hash(cookie)]


def test_no_link_without_an_enabled_program(client: Any, ana: Membership, campaign_a: Any) -> None:
    ReferralProgram.objects.create(campaign=campaign_a, enabled=False, rate_percent=Decimal("10"))
    client.force_login(ana.influencer.user)
    response = client.get(_page(ana.brand))
    assert response.status_code == 200
    assert not RecruitingLink.objects.exists()
    assert "No campaign of this brand rewards referrals right now." in response.content.decode()


def test_the_page_lists_only_my_referrals(client: Any, ana: Membership, program: Any, brand_a: Any) -> None:
    other = MembershipFactory(brand=brand_a).influencer
    lucia = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Lucía Paz")).influencer
    hidden = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Someone Else")).influencer
    for referrer, referred in ((ana.influencer, lucia), (other, hidden)):
        link = RecruitingLink.objects.create(influencer=referrer, campaign=program.campaign)
        Referral.objects.create(
            brand=brand_a, campaign=program.campaign, referrer=referrer, referred=referred, link=link
        )
    client.force_login(ana.influencer.user)
    html = client.get(_page(brand_a)).content.decode()
    assert "Lucía Paz" in html
    assert "Someone Else" not in html


def test_the_join_page_records_the_referrer_from_the_link(client: Any, program: Any, ana: Membership) -> None:
    link = RecruitingLink.objects.create(influencer=ana.influencer, campaign=program.campaign)
    url = reverse("affiliates:join", kwargs={"brand_slug": ana.brand.slug})
    response = client.get(f"{url}?ref={link.token}")
    assert response.status_code == 200
    assert client.session[f"join_ref:{ana.brand.pk}"] == link.token
    assert DEVICE_COOKIE in response.cookies


def test_the_tree_shows_my_brand_only(
    verified_client: Any, manager_a: Any, ana: Membership, program: Any, brand_b: Any
) -> None:
    lucia = MembershipFactory(brand=ana.brand, influencer=InfluencerFactory(display_name="Lucía Paz")).influencer
    link = RecruitingLink.objects.create(influencer=ana.influencer, campaign=program.campaign)
    Referral.objects.create(
        brand=ana.brand, campaign=program.campaign, referrer=ana.influencer, referred=lucia, link=link
    )
    other_campaign = CampaignFactory(brand=brand_b)
    b_ref = MembershipFactory(brand=brand_b, influencer=InfluencerFactory(display_name="Beto B")).influencer
    b_new = MembershipFactory(brand=brand_b).influencer
    Referral.objects.create(
        brand=brand_b,
        campaign=other_campaign,
        referrer=b_ref,
        referred=b_new,
        link=RecruitingLink.objects.create(influencer=b_ref, campaign=other_campaign),
    )
    client = verified_client(manager_a)
    tree = reverse("admin:commissions_referral_tree")
    html = client.get(tree).content.decode()
    assert "Ana Ríos" in html
    assert "Lucía Paz" in html
    assert "Beto B" not in html
    assert client.get(f"{tree}?brand={brand_b.pk}").status_code == 404
    listing = client.get(reverse("admin:affiliates_referral_changelist")).content.decode()
    assert "Lucía Paz" in listing
    assert "Beto B" not in listing
    assert not ReferralCommission.objects.exists()
