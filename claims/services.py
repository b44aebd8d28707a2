"""Writes of the claims context: an influencer (portal) or the brand's system (API) submits a
claim, a manager refreshes it from VTEX, accepts it (the order is attributed to the claimant by a
manual decision in tracking, then re-applied so commissions follow it the normal way) or rejects
it. Every decision is audited and published (`claim.submitted|accepted|rejected`); the
notifications and webhooks apps react through core.events.

VTEX is called before any transaction (a slow answer never holds a lock). A refused claim leaves
no claim, no file and no audit record; the order VTEX answered with is applied like any sync
(after the deadline check), since it is a real order of the brand."""

import logging
import re
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from affiliates.models import Influencer, Membership
from affiliates.uploads import kyc_file_inspect
from audit.services import audit_record
from brands.models import Brand
from campaigns.models import Campaign
from claims.findings import order_finding
from claims.locks import claim_lock
from claims.models import Claim
from claims.selectors import claim_campaigns_for_influencer
from core import events
from core.errors import ApplicationError, Conflict
from integrations.vtex.errors import VTEXError
from orders.models import Order
from orders.parsing import order_parse
from orders.reactions import attribution_settled
from orders.services import OrderNotInVTEX, order_apply, order_fetch
from tracking.services import attribution_manual_record

logger = logging.getLogger(__name__)

ORDER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
MESSAGE_MAX = 2000


class ClaimRefused(ApplicationError):
    default_code = "claim_refused"


def _refuse(message: str, *, field: str | None = None, code: str = "claim_refused") -> ClaimRefused:
    return ClaimRefused(message, code=code, extra={"field": field} if field else {})


def _fetch(*, brand: Brand, vtex_order_id: str) -> dict[str, Any] | None:
    """VTEX's order document, None when VTEX does not know the order; refuses when VTEX could not
    be asked (the person tries again; nothing was written)."""
    try:
        return dict(order_fetch(brand=brand, vtex_order_id=vtex_order_id))
    except OrderNotInVTEX:
        return None
    except VTEXError as exc:
        logger.warning("claim: VTEX order %s of %s could not be fetched: %s", vtex_order_id, brand.slug, exc)
        raise _refuse(
            _("The store's system (VTEX) did not answer just now. Nothing was saved; try again in a few minutes."),
            code="vtex_unavailable",
        ) from exc


def _apply(*, brand: Brand, data: dict[str, Any] | None) -> Order | None:
    """Apply VTEX's document the way every order sync does (in its own transaction, or the
    caller's when there is one)."""
    if data is None:
        return None
    result = order_apply(brand=brand, data=data, source="claim")
    return Order.objects.select_related("brand", "influencer", "code").get(pk=result.order_id)


def _event_data(claim: Claim) -> dict[str, Any]:
    return {
        "claim_id": claim.pk,
        "order_id": claim.vtex_order_id,
        "influencer_id": claim.influencer_id,
        "campaign_id": claim.campaign_id,
        "status": claim.status,
        "finding": claim.finding,
        "reason": claim.decision_reason,
    }


def _check_deadline(*, brand: Brand, data: dict[str, Any] | None, now: Any) -> Any:
    """The order's placing time; refuses a claim made after the brand's deadline."""
    if data is None:
        return None
    placed_at = order_parse(data).creation_date
    if placed_at is not None and now > placed_at + timedelta(days=brand.claim_deadline_days):
        raise _refuse(
            _("Order %(order)s was placed on %(date)s; %(brand)s accepts claims up to %(days)s days after an order.")
            % {
                "order": data.get("orderId") or "",
                "date": formats.date_format(timezone.localtime(placed_at, brand.tz), "DATE_FORMAT"),
                "brand": brand.name,
                "days": brand.claim_deadline_days,
            },
            field="vtex_order_id",
            code="claim_late",
        )
    return placed_at


def _check_open_duplicate(*, brand: Brand, vtex_order_id: str) -> None:
    if Claim.objects.filter(brand=brand, vtex_order_id=vtex_order_id, status=Claim.Status.OPEN).exists():
        raise _duplicate(vtex_order_id)


def _duplicate(vtex_order_id: str) -> ClaimRefused:
    return _refuse(
        _("Order %(order)s already has a claim under review. You will hear when it is decided.")
        % {"order": vtex_order_id},
        field="vtex_order_id",
        code="claim_duplicate",
    )


def claim_submit(
    *,
    influencer: Influencer,
    campaign: Campaign,
    vtex_order_id: str,
    buyer_message: str = "",
    evidence: Any = None,
    actor: Any = None,
    source: str = Claim.Source.PORTAL,
) -> Claim:
    """Claim a VTEX order for `influencer` in `campaign` (one they take part in, with an approved
    membership). The order is fetched from VTEX and applied like any sync, and the claim records
    why it is or is not attributed to the claimant. Refused, with no claim written: a malformed id,
    a campaign they are not in, an open claim on the same order, an order already attributed to
    them, a claim after the brand's deadline, an evidence file that is not a PDF/JPEG/PNG within
    the size limit, VTEX not answering."""
    brand = campaign.brand
    vtex_order_id = (vtex_order_id or "").strip()
    if not ORDER_ID_RE.match(vtex_order_id):
        raise _refuse(
            _("Write the order number as the store shows it, for example 1415461749731-01."), field="vtex_order_id"
        )
    buyer_message = (buyer_message or "").strip()
    if len(buyer_message) > MESSAGE_MAX:
        raise _refuse(
            _("The buyer's message is too long (at most %(max)s characters).") % {"max": MESSAGE_MAX},
            field="buyer_message",
        )
    if not Membership.objects.filter(brand=brand, influencer=influencer, status=Membership.Status.APPROVED).exists():
        raise _refuse(_("Only approved members of %(brand)s can claim orders.") % {"brand": brand.name})
    if campaign.pk not in {c.pk for c in claim_campaigns_for_influencer(influencer=influencer, brand=brand)}:
        raise _refuse(_("Choose a campaign you take part in."), field="campaign")
    inspected = None
    if evidence:
        try:
            inspected = kyc_file_inspect(evidence)
        except ApplicationError as exc:
            raise _refuse(str(exc.message), field="evidence", code="upload_invalid") from exc
    _check_open_duplicate(brand=brand, vtex_order_id=vtex_order_id)
    now = timezone.now()
    data = _fetch(brand=brand, vtex_order_id=vtex_order_id)
    placed_at = _check_deadline(brand=brand, data=data, now=now)

    # The order is applied as any sync would (its own transaction): an order VTEX knows and we
    # did not is worth keeping even when the claim is refused (it may be the claimant's already).
    order = _apply(brand=brand, data=data)
    finding, detail = order_finding(order=order, influencer_id=influencer.pk)
    if order is not None and order.influencer_id == influencer.pk:
        if finding == Claim.Finding.FRAUD_HOLD:
            message = _("Order %(order)s is already attributed to you; its commission waits for a review by the brand.")
        else:
            message = _("Order %(order)s is already attributed to you: its commission is on your Earnings page.")
        raise _refuse(message % {"order": vtex_order_id}, field="vtex_order_id", code="claim_already_attributed")

    stored: list[str] = []
    try:
        with transaction.atomic():
            claim = Claim(
                brand=brand,
                campaign=campaign,
                influencer=influencer,
                vtex_order_id=vtex_order_id,
                order=order,
                source=source,
                finding=finding,
                finding_detail=detail,
                checked_at=now,
                order_placed_at=placed_at,
                buyer_message=buyer_message,
                submitted_by=actor if getattr(actor, "pk", None) else None,
            )
            if inspected is not None:
                claim.evidence_content_type = inspected.content_type
                claim.evidence_size = inspected.size
                claim.evidence_sha256 = inspected.sha256
                evidence.seek(0)
                # Saving the field writes to private storage; the name is generated.
                claim.evidence.save("evidence", evidence, save=False)
                stored.append(claim.evidence.name or "")
            try:
                with transaction.atomic():
                    claim.save()
            except IntegrityError as exc:  # another claim on the order won the race
                raise _duplicate(vtex_order_id) from exc
            audit_record(
                action="claim.submitted",
                target=claim,
                actor=actor,
                brand_id=brand.pk,
                after={
                    "order": vtex_order_id,
                    "influencer": influencer.pk,
                    "campaign": campaign.pk,
                    "finding": finding,
                    "source": source,
                    "evidence": bool(inspected),
                },
            )
            events.publish("claim.submitted", brand_id=brand.pk, data=_event_data(claim))
    except BaseException:
        _delete_stored(stored)
        raise
    return claim


def _delete_stored(names: list[str]) -> None:
    storage = Claim._meta.get_field("evidence").storage  # type: ignore[union-attr]
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # pragma: no cover - best effort; an orphan file holds no reference
            logger.warning("could not delete orphaned claim evidence %s", name)


def _locked(claim_id: int) -> Claim:
    return claim_lock(pk=claim_id)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise _refuse(_("Write the reason for the decision (at least 5 characters)."), field="reason")
    return reason


def claim_refresh(*, claim_id: int, actor: Any = None) -> Claim:
    """Fetch the order again and record what is known now (an open claim only)."""
    claim = Claim.objects.select_related("brand").get(pk=claim_id)
    if claim.status != Claim.Status.OPEN:
        raise Conflict(_("This claim was already decided."))
    data = _fetch(brand=claim.brand, vtex_order_id=claim.vtex_order_id)
    with transaction.atomic():
        claim = _locked(claim_id)
        if claim.status != Claim.Status.OPEN:
            raise Conflict(_("This claim was already decided."))
        before = {"finding": claim.finding}
        order = _apply(brand=claim.brand, data=data)
        _record_finding(claim, order=order, placed_at=order_parse(data).creation_date if data else None)
        claim.save()
        audit_record(
            action="claim.refreshed",
            target=claim,
            actor=actor,
            brand_id=claim.brand_id,
            before=before,
            after={"finding": claim.finding},
        )
    return claim


def _record_finding(claim: Claim, *, order: Order | None, placed_at: Any) -> None:
    claim.finding, claim.finding_detail = order_finding(order=order, influencer_id=claim.influencer_id)
    claim.order = order
    claim.order_placed_at = placed_at or claim.order_placed_at
    claim.checked_at = timezone.now()


def claim_accept(*, claim_id: int, reason: str, actor: Any = None) -> Claim:
    """Attribute the claimed order to the claimant: a manual decision with `reason` in tracking
    (audited there), then the order re-applied so attribution and commissions follow the normal
    path, all in one transaction under the claim's lock. Accepting twice, or two managers at
    once, attributes once and creates the commission once (the second finds it accepted).
    Refused: VTEX does not know the order; its commission is already confirmed for someone else
    (settled money is not re-attributed)."""
    reason = _reason(reason)
    claim = Claim.objects.select_related("brand").get(pk=claim_id)
    if claim.status == Claim.Status.ACCEPTED:
        return claim
    if claim.status != Claim.Status.OPEN:
        raise Conflict(_("This claim was already decided."))
    data = _fetch(brand=claim.brand, vtex_order_id=claim.vtex_order_id)
    if data is None:
        raise _refuse(
            _("VTEX does not know order %(order)s, so it cannot be attributed. Reject the claim with a reason.")
            % {"order": claim.vtex_order_id}
        )
    with transaction.atomic():
        claim = _locked(claim_id)
        if claim.status == Claim.Status.ACCEPTED:
            return claim
        if claim.status != Claim.Status.OPEN:
            raise Conflict(_("This claim was already decided."))
        known = Order.objects.filter(brand=claim.brand, vtex_order_id=claim.vtex_order_id).first()
        if known is not None and known.influencer_id not in (None, claim.influencer_id) and attribution_settled(known):
            raise _refuse(
                _(
                    "Order %(order)s has a confirmed commission of another influencer; it can no longer be re-attributed."
                )
                % {"order": claim.vtex_order_id}
            )
        attribution_manual_record(
            brand=claim.brand,
            order_ref=claim.vtex_order_id,
            influencer=claim.influencer,
            campaign=claim.campaign,
            reason=reason,
            source_ref=f"claim:{claim.pk}",
            actor=actor,
        )
        result = order_apply(brand=claim.brand, data=data, source="claim", force=True)
        order = Order.objects.select_related("brand", "influencer", "code").get(pk=result.order_id)
        if order.influencer_id != claim.influencer_id:
            raise _refuse(
                _("Order %(order)s could not be attributed to %(who)s: its attribution is settled.")
                % {"order": claim.vtex_order_id, "who": claim.influencer.display_name}
            )
        before = {"status": claim.status, "finding": claim.finding}
        _record_finding(claim, order=order, placed_at=order.created_in_vtex_at)
        claim.status = Claim.Status.ACCEPTED
        claim.decided_at = timezone.now()
        claim.decided_by = actor if getattr(actor, "pk", None) else None
        claim.decision_reason = reason
        claim.save()
        audit_record(
            action="claim.accepted",
            target=claim,
            actor=actor,
            brand_id=claim.brand_id,
            before=before,
            after={"status": claim.status, "reason": reason, "order": order.vtex_order_id},
        )
        events.publish("claim.accepted", brand_id=claim.brand_id, data=_event_data(claim))
    return claim


def claim_reject(*, claim_id: int, reason: str, actor: Any = None) -> Claim:
    """Close the claim without changing the order; the influencer is told the reason."""
    reason = _reason(reason)
    with transaction.atomic():
        claim = _locked(claim_id)
        if claim.status == Claim.Status.REJECTED:
            return claim
        if claim.status != Claim.Status.OPEN:
            raise Conflict(_("This claim was already decided."))
        claim.status = Claim.Status.REJECTED
        claim.decided_at = timezone.now()
        claim.decided_by = actor if getattr(actor, "pk", None) else None
        claim.decision_reason = reason
        claim.save(update_fields=["status", "decided_at", "decided_by", "decision_reason", "updated_at"])
        audit_record(
            action="claim.rejected",
            target=claim,
            actor=actor,
            brand_id=claim.brand_id,
            before={"status": Claim.Status.OPEN},
            after={"status": claim.status, "reason": reason},
        )
        events.publish("claim.rejected", brand_id=claim.brand_id, data=_event_data(claim))
    return claim
