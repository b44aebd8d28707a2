"""The data bench/serving_bench.py and bench/users_bench.py serve: one brand with N approved
influencers (each with a link and 90 days of daily rollups), verified managers for the admin,
and signed-in sessions for all of them (the session cookie each simulated person sends).

Rows are bulk-inserted (no password hashing, no per-row signals): 1,000 people take seconds."""

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass
class PortalPeople:
    brand_slug: str
    link_slugs: list[str]
    influencer_cookies: list[str]  # "sessionid=..."
    manager_cookies: list[str]


def _session_cookie(user: Any, *, otp_device: Any = None) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if otp_device is not None:
        from django_otp import DEVICE_ID_SESSION_KEY

        session[DEVICE_ID_SESSION_KEY] = otp_device.persistent_id
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def portal_people(*, influencers: int, managers: int = 1, seed: int = 11) -> PortalPeople:
    """Create (once; later runs reuse them) the brand, its people and their sessions."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.roles import MANAGER, roles_sync
    from affiliates.models import Influencer, Membership
    from brands.models import Brand
    from brands.services import staff_brand_grant
    from campaigns.models import Campaign
    from reports.models import DailyRollup
    from tests.factories import BrandFactory, CampaignFactory
    from tracking.link_cache import link_entry_get
    from tracking.models import Link

    User = get_user_model()
    brand = Brand.objects.filter(slug="bench-portal").first()
    if brand is None:
        brand = BrandFactory(slug="bench-portal", vtex_account="benchportal", name="Bench Portal")
        campaign = CampaignFactory(brand=brand, slug="bench-portal")
    else:
        campaign = Campaign.objects.filter(brand=brand).first()
    have = Membership.objects.filter(brand=brand).count()
    if have < influencers:
        now = timezone.now()
        users = User.objects.bulk_create(
            [User(email=f"bench{n}@bench.example", full_name=f"Bench {n}") for n in range(have, influencers)]
        )
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_update(users, ["password"])
        people = Influencer.objects.bulk_create(
            [Influencer(user=u, display_name=u.full_name, country="BR", handle=f"bench{u.pk}") for u in users]
        )
        Membership.objects.bulk_create(
            [
                Membership(brand=brand, influencer=i, status=Membership.Status.APPROVED, status_changed_at=now)
                for i in people
            ]
        )
        Link.objects.bulk_create(
            [
                Link(
                    campaign=campaign,
                    brand=brand,
                    influencer=i,
                    slug=f"bench-{i.pk}",
                    destination_url=f"https://{brand.store_domains[0]}/",
                )
                for i in people
            ]
        )
        rng = random.Random(seed)
        today = timezone.localdate()
        rows = []
        for influencer in people:
            for back in range(90):
                clicks = rng.randint(0, 40)
                orders = rng.randint(0, clicks // 10)
                revenue = orders * rng.randint(5_000, 40_000)
                rows.append(
                    DailyRollup(
                        brand=brand,
                        day=today - timedelta(days=back),
                        campaign=campaign,
                        influencer=influencer,
                        country="BR",
                        clicks_valid=clicks,
                        unique_visitors=clicks,
                        orders=orders,
                        revenue_cents=revenue,
                        commission_estimated_cents=revenue // 10,
                    )
                )
        DailyRollup.objects.bulk_create(rows, batch_size=5000)
    if not Group.objects.filter(name=MANAGER).exists():
        roles_sync()
    manager_cookies = []
    for n in range(managers):
        email = f"bench-manager{n}@bench.example"
        manager = User.objects.filter(email=email).first()
        if manager is None:
            manager = User.objects.create(email=email, full_name=f"Bench Manager {n}", is_staff=True)
            manager.set_unusable_password()
            manager.save()
            manager.groups.add(Group.objects.get(name=MANAGER))
            staff_brand_grant(user=manager, brand=brand)
        device = TOTPDevice.objects.filter(user=manager, confirmed=True).first() or TOTPDevice.objects.create(
            user=manager, name="bench", confirmed=True
        )
        manager_cookies.append(_session_cookie(manager, otp_device=device))
    memberships = Membership.objects.filter(brand=brand).select_related("influencer__user").order_by("pk")
    influencer_ids = [m.influencer_id for m in memberships[:influencers]]
    slugs = dict(
        Link.objects.filter(brand=brand, influencer_id__in=influencer_ids).values_list("influencer_id", "slug")
    )
    link_slugs = [slugs[i] for i in influencer_ids if i in slugs]
    # The links were bulk-inserted, past `link_create`, which warms a new link's cache entry in
    # production: without this, a link's first click (and its first after the entry expired)
    # went to Django and the database instead of the click edge.
    for slug in link_slugs:
        link_entry_get(slug)
    return PortalPeople(
        brand_slug=brand.slug,
        link_slugs=link_slugs,
        influencer_cookies=[_session_cookie(m.influencer.user) for m in memberships[:influencers]],
        manager_cookies=manager_cookies,
    )
