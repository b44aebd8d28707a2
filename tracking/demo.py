"""Demo links: one home-page link per approved demo influencer in the demo campaign, with a
fixed slug so the README can point at /r/demo-<handle>. Idempotent."""

from typing import Any

from affiliates.models import Membership
from campaigns.models import Campaign
from tracking.models import Link
from tracking.selectors import link_public_url
from tracking.services import link_create


def seed(*, out: Any) -> None:
    campaign = Campaign.objects.select_related("brand").filter(brand__slug="demo", slug="lanzamiento").first()
    if campaign is None:
        out.write("  no demo campaign; skipped")
        return
    memberships = Membership.objects.filter(brand=campaign.brand, status=Membership.Status.APPROVED).select_related(
        "influencer"
    )
    for membership in memberships:
        influencer = membership.influencer
        slug = f"demo-{(influencer.handle or str(influencer.pk)).lower().replace('_', '-').replace('.', '-')}"[:40]
        link = Link.objects.filter(slug=slug).first() or link_create(
            campaign=campaign, influencer=influencer, slug=slug, label="Demo"
        )
        out.write(f"  link {link_public_url(slug=link.slug)} → {link.destination_url} ({influencer})")
