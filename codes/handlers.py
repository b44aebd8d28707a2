"""What codes does when a lower floor publishes an event (`core.events`), registered in
`CodesConfig.ready()`. Each handler runs in the publisher's transaction, so a code that cannot
be issued rolls back the decision that asked for it; the VTEX syncs themselves are queued for
after the commit by the services. Thin: each handler calls one service (looked up on the module
at call time, so the rule has one home)."""

from typing import Any

from affiliates.models import Influencer, Membership
from campaigns.models import Campaign
from codes.services import archiving, issuing

_ARCHIVED_STANDINGS = (Membership.Status.SUSPENDED, Membership.Status.BLOCKED)


def on_membership_changed(
    *,
    membership: Membership,
    previous: str,
    actor: Any = None,
    campaigns: list[Campaign] | None = None,
    issued_codes: list[str] | None = None,
    **_payload: Any,
) -> None:
    """First approval: issue the codes (and report their texts for the welcome email).
    Approved again after a suspension: bring the codes back. Suspended or blocked while they
    had codes in use: archive them."""
    status = membership.status
    if status == Membership.Status.APPROVED:
        if previous == Membership.Status.PENDING:
            codes = issuing.codes_issue_for_influencer(
                brand=membership.brand, influencer=membership.influencer, campaigns=campaigns or None, actor=actor
            )
            if issued_codes is not None:
                issued_codes.extend(str(code.text) for code in codes)
        else:
            archiving.codes_unarchive_for_influencer(
                brand=membership.brand, influencer=membership.influencer, actor=actor
            )
    elif status in _ARCHIVED_STANDINGS and previous in (Membership.Status.APPROVED, Membership.Status.SUSPENDED):
        archiving.codes_archive_for_influencer(brand=membership.brand, influencer=membership.influencer, actor=actor)


def on_campaign_changed(*, campaign: Campaign, actor: Any = None, **_payload: Any) -> None:
    """The campaign's status moved: its codes are active in VTEX only while it runs."""
    archiving.codes_refresh_for_campaign(campaign=campaign, actor=actor)


def on_assignment_changed(*, campaign: Campaign, influencer: Influencer, actor: Any = None, **_payload: Any) -> None:
    """The influencer left (or rejoined) the campaign: their code of it follows."""
    archiving.codes_refresh_for_campaign(campaign=campaign, influencer=influencer, actor=actor)
