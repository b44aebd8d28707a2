"""Demo: the approved demo influencers join the open campaign "Lanzamiento" and get their codes.
The VTEX sync runs after commit; with no VTEX credentials on the demo brand it shows as failed
in the admin ("sync again" once credentials are set), and seeding carries on."""

from typing import Any

from affiliates.models import Membership
from brands.models import Brand
from codes.services.issuing import codes_issue_for_influencer
from core.errors import ApplicationError


def seed(*, out: Any) -> None:
    brand = Brand.objects.get(slug="demo")
    memberships = (
        Membership.objects.filter(brand=brand, status=Membership.Status.APPROVED)
        .select_related("influencer")
        .order_by("pk")
    )
    for membership in memberships:
        try:
            codes = codes_issue_for_influencer(brand=brand, influencer=membership.influencer)
        except ApplicationError as exc:
            out.write(f"  {membership.influencer}: no codes ({exc})")
            continue
        listed = ", ".join(f"{code.text} ({code.campaign.name})" for code in codes) or "—"
        out.write(f"  codes of {membership.influencer}: {listed}")
