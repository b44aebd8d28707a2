"""Issue #4, "done when": a brand, a campaign from a template with SKU rules and two tiers,
influencers assigned, codes generated and synced against the fake VTEX; a 429 storm waited out
and a 400 shown with VTEX's message, all through the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from brands.models import Brand
from campaigns.models import Campaign
from codes.models import Code
from tests.campaigns.admin_helpers import campaign_form, rule, tier, with_rows
from tests.factories import MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_manager_runs_a_campaign_from_a_template_and_codes_reach_vtex(
    superuser, verified_client, fake_vtex, django_capture_on_commit_callbacks
):
    # The platform operator creates the brand with its VTEX credentials (write-only).
    root = verified_client(superuser)
    response = root.post(
        reverse("admin:brands_brand_add"),
        {
            "name": "Lux Store",
            "slug": "lux",
            "is_active": "on",
            "vtex_account": "luxstore",
            "vtex_environment": "vtexcommercestable",
            "new_vtex_app_key": fake_vtex.app_key,
            "new_vtex_app_token": fake_vtex.app_token,
            "currency": "BRL",
            "country": "BR",
            "time_zone": "America/Sao_Paulo",
            "store_domains": '["www.luxstore.example"]',
            "primary_color": "#1F4E79",
            "secondary_color": "#F2A900",
            "min_withdrawal_cents": "50.00",
            "default_hold_days": 30,
            "claim_deadline_days": 90,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    brand = Brand.objects.get(slug="lux")
    assert brand.vtex_app_token == fake_vtex.app_token

    manager = StaffFactory(email="gestor@lux.example", role="Manager", brands=[brand])
    client = verified_client(manager)

    # A template with SKU rules and two tiers...
    data = campaign_form(brand.pk, is_template="on", utm_source="influencers", utm_campaign="verao")
    data = with_rows(
        data, "rules", [rule("SKUs 18 e 25", "12", dimension="sku", ids="18, 25", priority=10), rule("Resto", "8")]
    )
    data = with_rows(data, "tiers", [tier("Prata", "1000.00", "2"), tier("Ouro", "5000.00", "5")])
    assert client.post(reverse("admin:campaigns_campaign_add"), data).status_code == 302
    template = Campaign.objects.get(brand=brand, is_template=True)

    # ...cloned into a campaign ("Create from template")...
    response = client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "create_from_template", "_selected_action": [template.pk]},
    )
    assert response.status_code == 302
    start = timezone.localtime(timezone.now() - timedelta(days=1), brand.tz)
    response = client.post(
        response["Location"],
        {
            "name": "Verão 2026",
            "slug": "",
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": "00:00:00",
            "ends_at_0": "",
            "ends_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get(brand=brand, is_template=False)
    assert sorted(campaign.rules.values_list("name", flat=True)) == ["Resto", "SKUs 18 e 25"]
    assert campaign.tiers.count() == 2

    # ...activated, with two approved influencers assigned.
    client.post(
        reverse("admin:campaigns_campaign_changelist"), {"action": "make_active", "_selected_action": [campaign.pk]}
    )
    assert Campaign.objects.get(pk=campaign.pk).status == "active"
    maria = MembershipFactory(brand=brand, influencer__handle="maria", status="approved").influencer
    joao = MembershipFactory(brand=brand, influencer__handle="joao", status="approved").influencer
    for influencer in (maria, joao):
        response = client.post(
            reverse("admin:campaigns_campaignassignment_add"), {"campaign": campaign.pk, "influencer": influencer.pk}
        )
        assert response.status_code == 302

    # Codes are generated and appear as synced against the fake VTEX.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:campaigns_campaign_changelist"), {"action": "issue_codes", "_selected_action": [campaign.pk]}
        )
    codes = {code.text: code for code in Code.objects.filter(campaign=campaign)}
    assert set(codes) == {"MARIA10", "JOAO10"}
    assert {c.sync_status for c in codes.values()} == {"synced"}
    assert fake_vtex.coupons["MARIA10"]["utmSource"] == "influencers"
    assert fake_vtex.coupons["MARIA10"]["utmCampaign"] == "verao"
    page = client.get(reverse("admin:codes_code_changelist"), {"campaign__id__exact": campaign.pk}).content.decode()
    assert page.count("Synced") + page.count("Sincronizado") >= 2

    # A 429 storm is waited out.
    fake_vtex.fail_next(2, 429, headers={"Retry-After": "1"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:codes_code_changelist"), {"action": "sync_again", "_selected_action": [codes["MARIA10"].pk]}
        )
    maria_code = Code.objects.get(pk=codes["MARIA10"].pk)
    assert (maria_code.sync_status, maria_code.last_sync_error) == ("synced", "")
    # Two creations, then the update the documented way (get the coupon, post it back edited)
    # through the two 429s.
    assert len([r for r in fake_vtex.requests if r.path.startswith("/api/rnb/pvt/coupon")]) >= 6

    # A 400 is shown with VTEX's message.
    fake_vtex.fail_next(
        1,
        400,
        body={
            "error": {"": ["The utmSource 'influencers' has no active promotion."]},
            "title": "One or more validation errors occurred.",
            "status": 400,
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:codes_code_changelist"), {"action": "sync_again", "_selected_action": [codes["JOAO10"].pk]}
        )
    joao_code = Code.objects.get(pk=codes["JOAO10"].pk)
    assert joao_code.sync_status == "failed"
    detail = client.get(reverse("admin:codes_code_change", args=[joao_code.pk])).content.decode()
    assert "has no active promotion" in detail.replace("&#x27;", "'")
