from typing import Any

from django.utils import timezone

from accounts.models import User
from affiliates.models import Influencer, Membership
from campaigns.models import Brand

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo data, printed on purpose

INFLUENCERS = [
    ("maria@demo.mgm", "María Gómez", "mariagomez", "CO"),
    ("joao@demo.mgm", "João Silva", "joaosilva", "BR"),
    ("lucia@demo.mgm", "Lucía Pérez", "luciaperez", "MX"),
]


def seed(*, out: Any) -> None:
    from allauth.account.models import EmailAddress

    brand = Brand.objects.get(slug="demo")
    for email, name, handle, country in INFLUENCERS:
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=DEMO_PASSWORD, full_name=name
        )
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        influencer, _ = Influencer.objects.get_or_create(
            user=user, defaults={"display_name": name, "handle": handle, "country": country}
        )
        Membership.objects.get_or_create(
            influencer=influencer,
            brand=brand,
            defaults={"status": Membership.Status.APPROVED, "status_changed_at": timezone.now()},
        )
        out.write(f"  influencer {email} / {DEMO_PASSWORD} (@{handle}, approved)")
