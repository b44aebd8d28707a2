from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from affiliates.assignments import campaign_assign_influencer
from audit.models import AuditEvent
from campaigns.models import Campaign, CampaignAssignment
from codes.models import Code
from codes.services.issuing import codes_issue_for_influencer
from tests.campaigns.admin_helpers import campaign_form, rule, tier, variant, with_rows
from tests.campaigns.factories import RunnableCampaignFactory
from tests.factories import BrandFactory, MembershipFactory

pytestmark = pytest.mark.django_db
ADD = "admin:campaigns_campaign_add"


def errors_of(response):
    return response.content.decode()


def test_manager_creates_a_template_with_sku_rules_and_tiers(brand_a, manager_a, verified_client):
    client = verified_client(manager_a)
    data = campaign_form(brand_a.pk, is_template="on")
    data = with_rows(
        data, "rules", [rule("SKUs", "12", dimension="sku", ids="18, 25", priority=10), rule("Resto", "8")]
    )
    data = with_rows(data, "tiers", [tier("Plata", "10000.00", "2"), tier("Oro", "50.000,00", "5")])
    response = client.post(reverse(ADD), data)
    assert response.status_code == 302, errors_of(response)[:3000]
    template = Campaign.objects.get(slug="plantilla-skus")
    assert template.is_template
    assert template.status == "draft"
    assert template.rules.get(name="SKUs").ids == ["18", "25"]
    assert template.tiers.count() == 2
    # Thresholds are typed in major units (either number format) and stored in minor units.
    assert template.tiers.get(name="Plata").threshold == 1_000_000
    assert template.tiers.get(name="Oro").threshold == 5_000_000


def test_dates_are_read_in_the_brand_time_zone(manager_a, verified_client, brand_a):
    mexico = BrandFactory(slug="mx", vtex_account="mx", time_zone="America/Mexico_City")
    manager_a.brand_access.create(brand=mexico)
    client = verified_client(manager_a)
    response = client.post(reverse(ADD), campaign_form(mexico.pk, starts_at_0="2026-06-01", starts_at_1="00:00:00"))
    assert response.status_code == 302, errors_of(response)[:3000]
    campaign = Campaign.objects.get(brand=mexico)
    assert campaign.starts_at == datetime(2026, 6, 1, tzinfo=ZoneInfo("America/Mexico_City"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"attribution_window_days": 31}, "less than or equal to 30"),
        ({"attribution_window_days": 6}, "greater than or equal to 7"),
        ({"ends_at_0": "2025-12-01", "ends_at_1": "00:00:00"}, "The end must be after the start."),
    ],
)
def test_bad_campaign_input_gets_a_clear_error(brand_a, manager_a, verified_client, overrides, message):
    client = verified_client(manager_a)
    response = client.post(reverse(ADD), campaign_form(brand_a.pk, **overrides), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in errors_of(response)
    assert not Campaign.objects.exists()


def test_overlapping_variant_weights_get_a_clear_error(brand_a, manager_a, verified_client):
    client = verified_client(manager_a)
    data = with_rows(campaign_form(brand_a.pk), "variants", [variant("A", 60), variant("B", 50)])
    response = client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert "add up to 110%" in errors_of(response)
    assert not Campaign.objects.exists()


def test_unknown_sku_format_gets_a_clear_error(brand_a, manager_a, verified_client):
    client = verified_client(manager_a)
    data = with_rows(campaign_form(brand_a.pk), "rules", [rule("Shoes", "10", dimension="sku", ids="18, SHOE-42")])
    response = client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert "“SHOE-42” is not a VTEX SKU id" in errors_of(response)
    assert not Campaign.objects.exists()


def test_manager_cannot_create_campaigns_for_another_brand(brand_a, brand_b, manager_a, verified_client):
    client = verified_client(manager_a)
    response = client.post(reverse(ADD), campaign_form(brand_b.pk))
    assert response.status_code == 200  # brand_b is not a valid choice for this manager
    assert not Campaign.objects.exists()


def test_status_actions_report_refusals(brand_a, manager_a, verified_client):
    campaign = RunnableCampaignFactory(brand=brand_a, status="draft", rules=False)
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "make_active", "_selected_action": [campaign.pk]},
        follow=True,
    )
    assert "Add at least one commission rule" in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_assignment_admin_assigns_through_the_service(brand_a, manager_a, influencer_a, verified_client):
    campaign = RunnableCampaignFactory(brand=brand_a)
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:campaigns_campaignassignment_add"), {"campaign": campaign.pk, "influencer": influencer_a.pk}
    )
    assert response.status_code == 302
    assignment = CampaignAssignment.objects.get()
    assert (assignment.campaign, assignment.influencer, assignment.assigned_by) == (campaign, influencer_a, manager_a)


def test_assignment_admin_refuses_unapproved_influencers(brand_a, manager_a, verified_client):
    campaign = RunnableCampaignFactory(brand=brand_a)
    pending = MembershipFactory(brand=brand_a, status="pending").influencer
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:campaigns_campaignassignment_add"),
        {"campaign": campaign.pk, "influencer": pending.pk},
        follow=True,
    )
    assert "not an approved influencer" in response.content.decode()
    assert not CampaignAssignment.objects.exists()


def test_finance_can_view_but_not_change_campaigns(brand_a, finance_a, verified_client):
    campaign = RunnableCampaignFactory(brand=brand_a)
    client = verified_client(finance_a)
    assert client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("admin:codes_code_changelist")).status_code == 200
    assert client.get(reverse(ADD)).status_code == 403


def test_admin_pages_render_for_a_manager(brand_a, manager_a, influencer_a, verified_client):
    campaign = RunnableCampaignFactory(brand=brand_a, is_template=False)
    code = codes_issue_for_influencer(brand=brand_a, influencer=influencer_a, campaigns=[campaign])[0]
    template = RunnableCampaignFactory(brand=brand_a, is_template=True, status="draft")
    client = verified_client(manager_a)
    for url in [
        reverse("admin:campaigns_campaign_changelist"),
        reverse(ADD),
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_from_template", args=[template.pk]),
        reverse("admin:campaigns_campaignassignment_changelist"),
        reverse("admin:campaigns_campaignassignment_add"),
        reverse("admin:campaigns_campaignassignment_change", args=[campaign.assignments.get().pk]),
        reverse("admin:codes_code_changelist"),
        reverse("admin:codes_code_add"),
        reverse("admin:codes_code_change", args=[code.pk]),
    ]:
        assert client.get(url).status_code == 200, url


def test_manager_adds_a_chosen_code_in_the_admin(brand_a, manager_a, influencer_a, verified_client):
    campaign = RunnableCampaignFactory(brand=brand_a)
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:codes_code_add"), {"campaign": campaign.pk, "influencer": influencer_a.pk, "text": "verano-ana"}
    )
    assert response.status_code == 302
    code = Code.objects.get()
    assert (code.text, code.origin, code.brand_id) == ("VERANO-ANA", "chosen", brand_a.pk)
    response = client.post(
        reverse("admin:codes_code_add"),
        {"campaign": campaign.pk, "influencer": influencer_a.pk, "text": "bad code!"},
        follow=True,
    )
    assert "Use only letters" in response.content.decode()
    assert Code.objects.count() == 1


def test_another_brands_campaign_is_not_a_choice_for_codes(brand_a, brand_b, manager_a, verified_client):
    other = RunnableCampaignFactory(brand=brand_b)
    influencer = MembershipFactory(brand=brand_b, status="approved").influencer
    client = verified_client(manager_a)
    response = client.post(reverse("admin:codes_code_add"), {"campaign": other.pk, "influencer": influencer.pk})
    assert response.status_code == 200  # the form refuses the choice
    assert not Code.objects.exists()


def _created_template(client, brand):
    data = with_rows(campaign_form(brand.pk, is_template="on"), "rules", [rule("Resto", "8")])
    response = client.post(reverse(ADD), data)
    assert response.status_code == 302, errors_of(response)[:3000]
    return Campaign.objects.get(slug="plantilla-skus")


def test_editing_a_rule_in_the_admin_writes_an_audit_event(brand_a, manager_a, verified_client):
    client = verified_client(manager_a)
    campaign = _created_template(client, brand_a)
    existing = campaign.rules.get()
    data = with_rows(
        campaign_form(brand_a.pk, is_template="on"),
        "rules",
        [{**rule("Resto", "9"), "id": existing.pk, "campaign": campaign.pk}],
    )
    data["rules-INITIAL_FORMS"] = 1
    response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    assert response.status_code == 302, errors_of(response)[:3000]
    existing.refresh_from_db()
    assert existing.rate_percent == 9
    events = AuditEvent.objects.filter(action="campaign.rules_edited", target_id=str(campaign.pk)).order_by("id")
    assert events.count() == 2  # the row added with the campaign, then the edit
    event = events.last()
    assert event.actor_id == manager_a.pk
    assert event.brand_id == brand_a.pk
    assert Decimal(event.before[str(existing.pk)]["rate_percent"]) == 8
    assert Decimal(event.after[str(existing.pk)]["rate_percent"]) == 9
    assert event.after[str(existing.pk)]["name"] == "Resto"


def test_unchanged_inlines_write_no_audit_event(brand_a, manager_a, verified_client):
    client = verified_client(manager_a)
    campaign = _created_template(client, brand_a)
    assert AuditEvent.objects.filter(action="campaign.rules_edited").count() == 1  # the added row
    existing = campaign.rules.get()
    data = with_rows(
        campaign_form(brand_a.pk, is_template="on"),
        "rules",
        [{**rule("Resto", "8"), "id": existing.pk, "campaign": campaign.pk}],
    )
    data["rules-INITIAL_FORMS"] = 1
    response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    assert response.status_code == 302, errors_of(response)[:3000]
    assert AuditEvent.objects.filter(action="campaign.rules_edited").count() == 1
    assert not AuditEvent.objects.filter(action__in=["campaign.tiers_edited", "campaign.variants_edited"]).exists()


def test_campaign_brand_is_read_only_once_created(brand_a, brand_b, manager_a, verified_client):
    manager_a.brand_access.create(brand=brand_b)
    client = verified_client(manager_a)
    campaign = _created_template(client, brand_a)
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert 'name="brand"' not in client.get(change).content.decode()
    response = client.post(change, campaign_form(brand_b.pk, is_template="on", name="Renamed"))
    assert response.status_code == 302, errors_of(response)[:3000]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.brand_id) == ("Renamed", brand_a.pk)


def test_campaign_changelist_counts_participants_in_one_query(
    brand_a, manager_a, influencer_a, verified_client, django_assert_max_num_queries
):

    client = verified_client(manager_a)
    campaigns = [RunnableCampaignFactory(brand=brand_a) for _ in range(3)]
    for campaign in campaigns:
        campaign_assign_influencer(campaign=campaign, influencer=influencer_a)
    url = reverse("admin:campaigns_campaign_changelist")
    client.get(url)
    with django_assert_max_num_queries(40) as captured:
        response = client.get(url, {"o": "8"})  # ordered by participants
    assert response.status_code == 200
    per_row = [
        q
        for q in captured.captured_queries
        if "campaigns_campaignassignment" in q["sql"] and "COUNT" in q["sql"] and "GROUP BY" not in q["sql"]
    ]
    assert not per_row
    assert response.context["cl"].result_count == 3


def test_code_actions_report_a_sentence_with_the_count(brand_a, manager_a, influencer_a, verified_client):
    campaign = RunnableCampaignFactory(brand=brand_a)
    code = codes_issue_for_influencer(brand=brand_a, influencer=influencer_a, campaigns=[campaign])[0]
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:codes_code_changelist"),
        {"action": "archive", "_selected_action": [code.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "1 code archived." in [str(m) for m in response.context["messages"]]
    assert Code.objects.get(pk=code.pk).status == "archived"
