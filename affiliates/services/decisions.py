"""The membership status machine: a manager approves, rejects, suspends or blocks. Each
decision is audited and published in its transaction, so a failing subscriber rolls it back."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from affiliates.assignments import campaign_assign_influencer
from affiliates.locks import membership_lock
from affiliates.models import Membership
from affiliates.services.event_data import membership_event_data
from audit.services import audit_record
from campaigns.models import Campaign
from core import events
from core.errors import ApplicationError, Conflict

Status = Membership.Status


_VERB = {
    Status.APPROVED: "approved",
    Status.REJECTED: "rejected",
    Status.SUSPENDED: "suspended",
    Status.BLOCKED: "blocked",
}


def _move(*, membership: Membership, to: str, actor: Any, reason: str = "") -> tuple[Membership, str]:
    """Lock the row and move it to `to`. Returns (membership, previous status); previous ==
    `to` means it was already there and nothing happened. Call inside a transaction."""
    locked = membership_lock(pk=membership.pk)
    previous = locked.status
    if previous == to:
        return locked, previous
    if not locked.can_move_to(to):
        allowed = sorted(str(Status(s).label) for s in locked.ALLOWED_TRANSITIONS.get(previous, set()))
        raise Conflict(
            _("A membership that is %(current)s cannot become %(target)s. From %(current)s it can become: %(allowed)s.")
            % {
                "current": Status(previous).label,
                "target": Status(to).label,
                "allowed": ", ".join(allowed) or _("nothing else"),
            },
            code="illegal_transition",
        )
    now = timezone.now()
    locked.status = to
    locked.status_changed_at = now
    locked.status_reason = reason
    if isinstance(actor, User):
        locked.reviewed_by = actor
    update_fields = ["status", "status_changed_at", "status_reason", "reviewed_by", "updated_at"]
    if to == Status.APPROVED and locked.approved_at is None:
        locked.approved_at = now
        update_fields.append("approved_at")
    locked.save(update_fields=update_fields)
    audit_record(
        action=f"membership.{_VERB[Status(to)]}",
        target=locked,
        actor=actor,
        brand_id=locked.brand_id,
        before={"status": previous},
        after={"status": to, "reason": reason},
    )
    return locked, previous


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ApplicationError(_("Write the reason: the influencer will read it."), code="reason_required")
    return reason


def _publish_status(membership: Membership, event: str, *, previous: str, reason: str) -> None:
    """Tell subscribers (the influencer's notification and email, webhooks) of a decision, in
    its transaction."""
    data = {**membership_event_data(membership), "previous_status": previous, "reason": reason}
    events.publish(event, brand_id=membership.brand_id, data=data)


def _membership_changed(
    *, membership: Membership, previous: str, actor: Any, campaigns: Sequence[Campaign] = ()
) -> list[str]:
    """Tell the floors above that a membership moved from `previous` (same transaction: if a
    handler fails, the decision rolls back). Codes issues, archives or brings back the
    influencer's discount codes; returns the texts of the codes issued, for the welcome email."""
    issued: list[str] = []
    events.publish(
        "membership.changed",
        membership=membership,
        previous=previous,
        actor=actor,
        campaigns=list(campaigns),
        issued_codes=issued,
    )
    return issued


def membership_approve(*, membership: Membership, actor: Any = None, campaigns: Iterable[Campaign] = ()) -> Membership:
    """pending → approved: assign the chosen campaigns, issue the discount codes, email them.
    suspended → approved: bring the archived codes back. Already approved: nothing happens."""
    chosen = list(campaigns)
    if any(c.brand_id != membership.brand_id for c in chosen):
        raise ApplicationError(_("Choose campaigns of the influencer's brand only."), code="campaign_brand")
    with transaction.atomic():
        locked, previous = _move(membership=membership, to=Status.APPROVED, actor=actor)
        if previous == Status.APPROVED:
            return locked
        influencer = locked.influencer
        codes: list[str] = []
        if previous == Status.PENDING:
            for campaign in chosen:
                campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
            codes = _membership_changed(membership=locked, previous=previous, actor=actor, campaigns=chosen)
        else:
            _membership_changed(membership=locked, previous=previous, actor=actor)
        # Published once the codes exist: the influencer's notification lists them.
        events.publish(
            "influencer.approved",
            brand_id=locked.brand_id,
            data={
                **membership_event_data(locked),
                "previous_status": previous,
                "campaigns": [c.name for c in chosen],
                "codes": codes,
            },
        )
    return locked


def membership_reject(*, membership: Membership, reason: str, actor: Any = None) -> Membership:
    """pending → rejected, with the reason the applicant receives by email."""
    return _decide_with_reason(membership, to=Status.REJECTED, event="influencer.rejected", reason=reason, actor=actor)


def membership_suspend(*, membership: Membership, reason: str, actor: Any = None) -> Membership:
    """approved → suspended: codes are archived until the membership is approved again."""
    return _decide_with_reason(
        membership, to=Status.SUSPENDED, event="influencer.suspended", reason=reason, actor=actor
    )


def membership_block(*, membership: Membership, reason: str, actor: Any = None) -> Membership:
    """any → blocked, for good: codes are archived and the portal of this brand closes."""
    return _decide_with_reason(membership, to=Status.BLOCKED, event="influencer.blocked", reason=reason, actor=actor)


def _decide_with_reason(membership: Membership, *, to: str, event: str, reason: str, actor: Any) -> Membership:
    """The decisions that need a reason: move the membership (a repeat changes nothing), then
    tell the contexts that follow memberships and publish `event` with the reason."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked, previous = _move(membership=membership, to=to, actor=actor, reason=reason)
        if previous != to:
            _membership_changed(membership=locked, previous=previous, actor=actor)
            _publish_status(locked, event, previous=previous, reason=reason)
    return locked
