from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from affiliates.assignments import campaign_assign_influencer, campaign_unassign_influencer
from audit.models import AuditEvent
from campaigns.models import Campaign, CampaignAssignment, CampaignEligibility, CommissionRule, CommissionTier
from campaigns.performance import Performance, performance_source_set
from campaigns.rules import Dimension
from campaigns.selectors import campaign_assignments_read_ahead, campaign_engine_inputs
from campaigns.services.campaigns import campaign_create, campaign_create_from_template, campaign_save
from campaigns.services.rules import campaign_eligibility_set, campaign_rule_add, campaign_tier_add
from campaigns.services.status import campaign_status_change, campaign_status_sync_by_dates
from campaigns.services.tier_placement import campaign_tiers_reevaluate
from campaigns.services.validation import CampaignInvalid
from campaigns.services.variants import VariantInput, campaign_variants_set, variant_pick
from core import batching
from core.errors import Conflict
from tests.campaigns.factories import RunnableCampaignFactory
from tests.factories import InfluencerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def now():
    return timezone.now()


# --- Creation and validation ----------------------------------------------------------------


def test_create_campaign_as_draft_with_brand_defaults(brand_a, manager_a):
    campaign = campaign_create(brand=brand_a, name="Verano", starts_at=now() + timedelta(days=1), actor=manager_a)
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.slug == "verano"
    assert campaign.hold_days == brand_a.default_hold_days
    assert AuditEvent.objects.filter(action="campaign.created", target_id=str(campaign.pk)).exists()


@pytest.mark.parametrize("window", [6, 31, 0])
def test_attribution_window_outside_7_to_30_is_refused(brand_a, window):
    with pytest.raises(CampaignInvalid) as caught:
        campaign_create(brand=brand_a, name="X", starts_at=now(), attribution_window_days=window)
    assert "attribution_window_days" in caught.value.extra["errors"]
    assert Campaign.objects.count() == 0


def test_end_before_start_is_refused(brand_a):
    with pytest.raises(CampaignInvalid, match="The end must be after the start"):
        campaign_create(brand=brand_a, name="X", starts_at=now(), ends_at=now() - timedelta(days=1))
    assert Campaign.objects.count() == 0


def test_unknown_sku_format_is_refused_with_the_bad_value(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a, rules=False)
    with pytest.raises(CampaignInvalid) as caught:
        campaign_rule_add(
            campaign=campaign, name="Shoes", kind="percentage", rate_percent="12", dimension="sku", ids="18, ABC-12"
        )
    assert "“ABC-12” is not a VTEX SKU id" in str(caught.value)
    assert not CommissionRule.objects.filter(campaign=campaign).exists()


def test_eligibility_ids_are_validated_and_normalised(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    row = campaign_eligibility_set(campaign=campaign, dimension="category", mode="exclude", ids="21; 21\n30")
    assert row.ids == ["21", "30"]
    with pytest.raises(CampaignInvalid, match="not a VTEX category id"):
        campaign_eligibility_set(campaign=campaign, dimension="category", mode="exclude", ids="gift wrap")
    assert CampaignEligibility.objects.get(pk=row.pk).ids == ["21", "30"]
    assert campaign_eligibility_set(campaign=campaign, dimension="category", mode="exclude", ids=[]) is None
    assert not CampaignEligibility.objects.filter(campaign=campaign).exists()


def test_rule_needs_a_rate_or_amount_matching_its_kind(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    with pytest.raises(CampaignInvalid, match="needs a rate"):
        campaign_rule_add(campaign=campaign, name="X", kind="percentage")
    with pytest.raises(CampaignInvalid, match="amount per unit"):
        campaign_rule_add(campaign=campaign, name="X", kind="fixed_per_unit")
    with pytest.raises(CampaignInvalid, match="takes no ids"):
        campaign_rule_add(campaign=campaign, name="X", kind="percentage", rate_percent=5, ids=["18"])
    assert campaign.rules.count() == 1


@pytest.mark.parametrize("weights", [[60, 50], [50, 40], [100, 1]])
def test_variant_weights_must_add_up_to_exactly_100(brand_a, weights):
    campaign = RunnableCampaignFactory(brand=brand_a)
    variants = [VariantInput(key=key, weight=w) for key, w in zip("AB", weights, strict=True)]
    with pytest.raises(CampaignInvalid, match=f"add up to {sum(weights)}%"):
        campaign_variants_set(campaign=campaign, variants=variants)
    assert not campaign.variants.exists()


def test_duplicate_tier_threshold_is_refused(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    campaign_tier_add(campaign=campaign, name="Plata", threshold=1000, bonus_percent="2")
    with pytest.raises(CampaignInvalid, match="already has a tier"):
        campaign_tier_add(campaign=campaign, name="Oro", threshold=1000, bonus_percent="5")
    assert campaign.tiers.count() == 1


# --- Templates ------------------------------------------------------------------------------


def make_template(brand):
    template = campaign_create(
        brand=brand, name="Plantilla", starts_at=now(), is_template=True, utm_source="mgm", attribution_window_days=14
    )
    campaign_variants_set(
        campaign=template, variants=[VariantInput("A", 50), VariantInput("B", 50, discount_percent=Decimal(15))]
    )
    variant_b = template.variants.get(key="B")
    campaign_rule_add(
        campaign=template,
        name="SKUs",
        kind="percentage",
        rate_percent="12",
        dimension="sku",
        ids=["18", "25"],
        priority=10,
    )
    campaign_rule_add(
        campaign=template,
        name="B extra",
        kind="percentage",
        rate_percent="15",
        dimension="sku",
        ids=["18"],
        priority=5,
        variant=variant_b,
    )
    campaign_rule_add(campaign=template, name="Rest", kind="percentage", rate_percent="8")
    campaign_tier_add(campaign=template, name="Plata", threshold=1_000_000, bonus_percent="2")
    campaign_tier_add(campaign=template, name="Oro", threshold=5_000_000, bonus_percent="5")
    campaign_eligibility_set(campaign=template, dimension="category", mode="exclude", ids=["21"])
    return template


def test_create_from_template_copies_rules_tiers_eligibility_and_variants(brand_a, manager_a):
    template = make_template(brand_a)
    starts = now() + timedelta(days=2)
    campaign = campaign_create_from_template(template=template, name="Black Friday", starts_at=starts, actor=manager_a)

    assert campaign.pk != template.pk
    assert (campaign.is_template, campaign.status, campaign.template_id) == (False, "draft", template.pk)
    assert campaign.attribution_window_days == 14
    assert sorted(campaign.rules.values_list("name", "rate_percent")) == sorted(
        template.rules.values_list("name", "rate_percent")
    )
    b_rule = campaign.rules.get(name="B extra")
    assert (b_rule.variant.campaign_id, b_rule.variant.key) == (campaign.pk, "B")
    assert list(campaign.tiers.values_list("name", "threshold")) == [("Plata", 1_000_000), ("Oro", 5_000_000)]
    assert list(campaign.eligibility.values_list("dimension", "mode", "ids")) == [("category", "exclude", ["21"])]
    assert template.rules.count() == 3  # the template is untouched
    assert AuditEvent.objects.filter(action="campaign.created_from_template").count() == 1


def test_only_templates_can_be_cloned_and_templates_never_run(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    with pytest.raises(CampaignInvalid, match="not a template"):
        campaign_create_from_template(template=campaign, name="X", starts_at=now())
    template = make_template(brand_a)
    with pytest.raises(Conflict, match="Templates never run"):
        campaign_status_change(campaign=template, to_status="active")
    assert Campaign.objects.get(pk=template.pk).status == "draft"


# --- Status ---------------------------------------------------------------------------------


def test_status_machine_moves_and_refuses_illegal_moves(brand_a, manager_a):
    campaign = RunnableCampaignFactory(brand=brand_a, status="draft", starts_at=now() - timedelta(days=1))
    campaign_status_change(campaign=campaign, to_status="active", actor=manager_a)
    campaign_status_change(campaign=campaign, to_status="active")  # idempotent
    campaign_status_change(campaign=campaign, to_status="paused")
    campaign_status_change(campaign=campaign, to_status="active")
    campaign_status_change(campaign=campaign, to_status="ended")
    with pytest.raises(Conflict, match="cannot become"):
        campaign_status_change(campaign=campaign, to_status="active")
    assert Campaign.objects.get(pk=campaign.pk).status == "ended"
    assert AuditEvent.objects.filter(action="campaign.status_changed", target_id=str(campaign.pk)).count() == 4


def test_a_campaign_without_rules_or_utm_source_cannot_run(brand_a):
    no_rules = RunnableCampaignFactory(brand=brand_a, status="draft", rules=False)
    with pytest.raises(Conflict, match="at least one commission rule"):
        campaign_status_change(campaign=no_rules, to_status="active")
    no_utm = RunnableCampaignFactory(brand=brand_a, status="draft", utm_source="")
    with pytest.raises(Conflict, match="utm_source"):
        campaign_status_change(campaign=no_utm, to_status="active")
    assert set(Campaign.objects.values_list("status", flat=True)) == {"draft"}


def test_future_campaign_is_scheduled_not_activated(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a, status="draft", starts_at=now() + timedelta(days=3))
    with pytest.raises(Conflict, match="schedule it"):
        campaign_status_change(campaign=campaign, to_status="active")
    campaign_status_change(campaign=campaign, to_status="scheduled")
    assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"


def test_beat_moves_campaigns_by_their_dates(brand_a):
    start_now = RunnableCampaignFactory(brand=brand_a, status="draft", starts_at=now() + timedelta(hours=1))
    campaign_status_change(campaign=start_now, to_status="scheduled")
    expired = RunnableCampaignFactory(
        brand=brand_a, status="active", starts_at=now() - timedelta(days=5), ends_at=now() + timedelta(hours=1)
    )
    later = RunnableCampaignFactory(
        brand=brand_a, status="active", starts_at=now() - timedelta(days=5), ends_at=now() + timedelta(days=9)
    )

    counts = campaign_status_sync_by_dates(now=now() + timedelta(hours=2))

    assert counts == {"activated": 1, "ended": 1, "skipped": 0}
    assert Campaign.objects.get(pk=start_now.pk).status == "active"
    assert Campaign.objects.get(pk=expired.pk).status == "ended"
    assert Campaign.objects.get(pk=later.pk).status == "active"
    assert campaign_status_sync_by_dates(now=now() + timedelta(hours=2)) == {"activated": 0, "ended": 0, "skipped": 0}


# --- Assignments and A/B --------------------------------------------------------------------


def test_assign_is_idempotent_and_audited(brand_a, influencer_a, manager_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    first = campaign_assign_influencer(campaign=campaign, influencer=influencer_a, actor=manager_a)
    second = campaign_assign_influencer(campaign=campaign, influencer=influencer_a, actor=manager_a)
    assert first.pk == second.pk
    assert CampaignAssignment.objects.count() == 1
    assert AuditEvent.objects.filter(action="campaign.influencer_assigned").count() == 1


@pytest.mark.parametrize("status", ["pending", "suspended", "rejected", "blocked"])
def test_only_approved_influencers_of_the_brand_can_be_assigned(brand_a, brand_b, status):
    campaign = RunnableCampaignFactory(brand=brand_a)
    membership = MembershipFactory(brand=brand_a, status=status)
    with pytest.raises(Conflict, match="not an approved influencer"):
        campaign_assign_influencer(campaign=campaign, influencer=membership.influencer)
    other_brand = MembershipFactory(brand=brand_b, status="approved")
    with pytest.raises(Conflict, match="not an approved influencer"):
        campaign_assign_influencer(campaign=campaign, influencer=other_brand.influencer)
    assert not CampaignAssignment.objects.exists()


def test_unassign_then_reassign_keeps_the_variant(brand_a, influencer_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    campaign_variants_set(campaign=campaign, variants=[VariantInput("A", 50), VariantInput("B", 50)])
    assignment = campaign_assign_influencer(campaign=campaign, influencer=influencer_a)
    campaign_unassign_influencer(campaign=campaign, influencer=influencer_a)
    assert not CampaignAssignment.objects.get(pk=assignment.pk).is_active
    again = campaign_assign_influencer(campaign=campaign, influencer=influencer_a)
    assert (again.pk, again.is_active, again.variant_id) == (assignment.pk, True, assignment.variant_id)


def test_variant_split_is_stable_and_follows_the_weights(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    variants = campaign_variants_set(campaign=campaign, variants=[VariantInput("A", 80), VariantInput("B", 20)])
    picks = Counter(variant_pick(campaign_id=campaign.pk, influencer_id=i, variants=variants).key for i in range(4000))
    assert 0.76 < picks["A"] / 4000 < 0.84
    assert [
        variant_pick(campaign_id=campaign.pk, influencer_id=7, variants=list(reversed(variants))).key for _ in range(3)
    ] == [variant_pick(campaign_id=campaign.pk, influencer_id=7, variants=variants).key] * 3


def test_assignment_records_the_variant_and_engine_inputs_use_its_rules(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    variants = campaign_variants_set(campaign=campaign, variants=[VariantInput("A", 50), VariantInput("B", 50)])
    b = next(v for v in variants if v.key == "B")
    campaign_rule_add(campaign=campaign, name="B only", kind="percentage", rate_percent="20", priority=1, variant=b)
    seen = set()
    for _i in range(12):
        influencer = MembershipFactory(brand=brand_a).influencer
        assignment = campaign_assign_influencer(campaign=campaign, influencer=influencer)
        inputs = campaign_engine_inputs(campaign=campaign, influencer_id=influencer.pk)
        assert inputs.variant_id == assignment.variant_id
        names = [rule.name for rule in inputs.rules]
        assert ("B only" in names) == (assignment.variant.key == "B")
        seen.add(assignment.variant.key)
    assert seen == {"A", "B"}


def test_a_batch_reads_assignments_ahead_and_a_campaigns_rules_once(brand_a):
    """Inside a batch of orders (core.batching) the engine's inputs answer as outside it, with
    the assignments read ahead in one query and the rules of a campaign (per variant) and its
    eligibility read once for all its influencers."""
    campaign = RunnableCampaignFactory(brand=brand_a)
    variants = campaign_variants_set(campaign=campaign, variants=[VariantInput("A", 50), VariantInput("B", 50)])
    for variant in variants:
        campaign_rule_add(
            campaign=campaign,
            name=f"{variant.key} only",
            kind="percentage",
            rate_percent="20",
            priority=1,
            variant=variant,
        )
    assigned = []
    for _i in range(6):
        influencer = MembershipFactory(brand=brand_a).influencer
        campaign_assign_influencer(campaign=campaign, influencer=influencer)
        assigned.append(influencer.pk)
    unassigned = MembershipFactory(brand=brand_a).influencer.pk
    alone = {pk: campaign_engine_inputs(campaign=campaign, influencer_id=pk) for pk in [*assigned, unassigned]}

    with batching.batch_scope():
        with CaptureQueriesContext(connection) as ahead:
            campaign_assignments_read_ahead(pairs=[(campaign.pk, pk) for pk in [*assigned, unassigned]])
        assert len(ahead.captured_queries) == 1
        with CaptureQueriesContext(connection) as reads:
            in_batch = {
                pk: campaign_engine_inputs(campaign=campaign, influencer_id=pk) for pk in [*assigned, unassigned]
            }
        assert in_batch == alone
        # No assignment query; the rules of each variant used and of no variant, and the
        # eligibility, once each.
        assert not [q for q in reads.captured_queries if "campaigns_campaignassignment" in q["sql"]]
        variants_used = {alone[pk].variant_id for pk in assigned}
        assert len(reads.captured_queries) == len(variants_used) + 1 + 1


def test_variants_with_influencers_cannot_be_removed(brand_a, influencer_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    campaign_variants_set(campaign=campaign, variants=[VariantInput("A", 100)])
    campaign_assign_influencer(campaign=campaign, influencer=influencer_a)
    with pytest.raises(Conflict, match="already has influencers"):
        campaign_variants_set(campaign=campaign, variants=[VariantInput("B", 100)])
    assert list(campaign.variants.values_list("key", flat=True)) == ["A"]


# --- Tiers ----------------------------------------------------------------------------------


@pytest.fixture
def performance():
    data = {}

    def source(campaign_id, influencer_ids, start, end):
        return {i: data[i] for i in influencer_ids if i in data}

    performance_source_set(source)
    yield data
    performance_source_set(None)


def test_tiers_follow_confirmed_sales(brand_a, performance, manager_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    silver = campaign_tier_add(campaign=campaign, name="Plata", threshold=1_000_00, bonus_percent="2")
    gold = campaign_tier_add(campaign=campaign, name="Oro", threshold=5_000_00, bonus_percent="5")
    low, mid, top = (MembershipFactory(brand=brand_a).influencer for _ in range(3))
    for influencer in (low, mid, top):
        campaign_assign_influencer(campaign=campaign, influencer=influencer)
    performance.update({mid.pk: Performance(sales_cents=1_200_00, orders=3), top.pk: Performance(sales_cents=9_000_00)})

    assert campaign_tiers_reevaluate(campaign=campaign, actor=manager_a) == 2
    tiers = dict(CampaignAssignment.objects.values_list("influencer_id", "tier_id"))
    assert tiers == {low.pk: None, mid.pk: silver.pk, top.pk: gold.pk}
    inputs = campaign_engine_inputs(campaign=campaign, influencer_id=top.pk)
    assert inputs.tier.bonus_rate == Decimal("0.05")

    performance[top.pk] = Performance(sales_cents=2_000_00)
    assert campaign_tiers_reevaluate(campaign=campaign) == 1
    assert CampaignAssignment.objects.get(influencer=top).tier_id == silver.pk
    assert campaign_tiers_reevaluate(campaign=campaign) == 0
    assert AuditEvent.objects.filter(action="campaign.tier_changed").count() == 3


def test_tiers_by_orders(brand_a, performance):
    campaign = RunnableCampaignFactory(brand=brand_a, tier_metric="orders")
    tier = campaign_tier_add(campaign=campaign, name="10 pedidos", threshold=10, bonus_percent="1")
    influencer = MembershipFactory(brand=brand_a).influencer
    campaign_assign_influencer(campaign=campaign, influencer=influencer)
    performance[influencer.pk] = Performance(sales_cents=1, orders=10)
    campaign_tiers_reevaluate(campaign=campaign)
    assignment = CampaignAssignment.objects.get(influencer=influencer)
    assert (assignment.tier_id, assignment.tier_metric_value) == (tier.pk, 10)


def test_without_a_performance_source_everyone_stays_in_the_base_tier(brand_a, influencer_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    CommissionTier.objects.create(campaign=campaign, name="Plata", threshold=0, bonus_percent=1)
    CommissionTier.objects.create(campaign=campaign, name="Oro", threshold=1, bonus_percent=2)
    campaign_assign_influencer(campaign=campaign, influencer=influencer_a)
    campaign_tiers_reevaluate(campaign=campaign)
    assert CampaignAssignment.objects.get().tier.name == "Plata"


def test_engine_inputs_bring_eligibility_and_caps(brand_a, influencer_a):
    campaign = RunnableCampaignFactory(brand=brand_a, order_cap_cents=5000)
    campaign_eligibility_set(campaign=campaign, dimension="sku", mode="include", ids=["18"])
    campaign_assign_influencer(campaign=campaign, influencer=influencer_a)
    inputs = campaign_engine_inputs(campaign=campaign, influencer_id=influencer_a.pk)
    assert inputs.order_cap_cents == 5000
    assert inputs.eligibility.include == {Dimension.SKU: frozenset({"18"})}
    assert inputs.rules[0].rate == Decimal("0.1")


def test_new_influencer_factory_is_not_assigned(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    InfluencerFactory()
    assert not campaign.assignments.exists()


def test_campaign_brand_cannot_change_after_creation(brand_a, brand_b, manager_a):
    campaign = campaign_create(brand=brand_a, name="Verano", starts_at=now() + timedelta(days=1), actor=manager_a)
    events = AuditEvent.objects.count()
    campaign.brand = brand_b
    with pytest.raises(CampaignInvalid, match="brand cannot be changed") as caught:
        campaign_save(campaign=campaign, actor=manager_a, changed_fields=["brand"])
    assert "brand" in caught.value.extra["errors"]
    assert Campaign.objects.get(pk=campaign.pk).brand_id == brand_a.pk
    assert AuditEvent.objects.count() == events
