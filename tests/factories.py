"""Factories shared by every context's tests. Contexts add their own in tests/<context>/."""

from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from accounts.roles import roles_sync
from affiliates.models import Influencer, Membership
from brands.models import Brand, StaffBrandAccess
from campaigns.models import Campaign

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    preferred_language = "en"  # tests read English; language tests set their own
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )
            self.save()


class StaffFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if create and extracted:
            if not Group.objects.filter(name=extracted).exists():
                roles_sync()
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def brands(self, create: bool, extracted: list[Brand] | None, **kwargs: Any) -> None:
        if create and extracted:
            for brand in extracted:
                StaffBrandAccess.objects.get_or_create(user=self, brand=brand)


class BrandFactory(factory.django.DjangoModelFactory[Brand]):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    vtex_account = factory.LazyAttribute(lambda o: o.slug.replace("_", "-"))
    currency = "COP"
    country = "CO"
    time_zone = "America/Bogota"
    store_domains = factory.LazyAttribute(
        lambda o: [f"www.{o.slug}.example", f"{o.vtex_account}.vtexcommercestable.com.br"]
    )
    vtex_app_key = "vtexappkey-test-ABCDEF"
    vtex_app_token = "test-app-token"


class CampaignFactory(factory.django.DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    status = Campaign.Status.ACTIVE
    starts_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=10))
    attribution_window_days = 30
    hold_days = 15


class InfluencerFactory(factory.django.DjangoModelFactory[Influencer]):
    class Meta:
        model = Influencer

    user = factory.SubFactory(UserFactory)
    display_name = factory.Faker("name")
    handle = factory.Sequence(lambda n: f"creator{n}")
    country = "CO"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    influencer = factory.SubFactory(InfluencerFactory)
    brand = factory.SubFactory(BrandFactory)
    status = Membership.Status.APPROVED
    status_changed_at = factory.LazyFunction(timezone.now)
