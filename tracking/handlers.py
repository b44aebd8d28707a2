"""What tracking does when a lower app announces something (core.events, wired in
`TrackingConfig.ready()`). Each handler only calls a service."""

from typing import Any

from tracking.services import links_issue_on_approval


def on_membership_changed(*, membership: Any, previous: str, actor: Any = None, **_payload: Any) -> None:
    """Approved (first time or again): issue the default link of each running campaign the
    influencer takes part in, as the code is issued. Same transaction: an approval that rolls
    back leaves no link behind. Codes' handler runs first (codes comes before tracking in
    INSTALLED_APPS) and has already put the influencer in the brand's open campaigns."""
    if membership.status == "approved" and previous != "approved":
        links_issue_on_approval(brand_id=membership.brand_id, influencer_id=membership.influencer_id, actor=actor)
