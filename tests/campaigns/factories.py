"""Factories for campaigns: a campaign ready to run (utm_source, a 10% rule), rules and tiers."""

from decimal import Decimal

import factory

from campaigns.models import CampaignVariant, CommissionRule, CommissionTier
from tests.factories import CampaignFactory


class RunnableCampaignFactory(CampaignFactory):
    class Meta:
        skip_postgeneration_save = True

    utm_source = "mgm"
    utm_campaign = factory.LazyAttribute(lambda o: o.slug)
    discount_percent = Decimal(10)

    @factory.post_generation
    def rules(self, create, extracted, **kwargs):
        if create and extracted is not False and not self.rules.exists():
            CommissionRule.objects.create(campaign=self, name="All", kind="percentage", rate_percent=Decimal(10))


class CommissionRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissionRule

    campaign = factory.SubFactory(RunnableCampaignFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "percentage"
    rate_percent = Decimal(10)


class CommissionTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissionTier

    campaign = factory.SubFactory(RunnableCampaignFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    threshold = factory.Sequence(lambda n: (n + 1) * 100_000)
    bonus_percent = Decimal(2)


class CampaignVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignVariant

    campaign = factory.SubFactory(RunnableCampaignFactory)
    key = factory.Sequence(lambda n: f"v{n}")
    weight = 50
