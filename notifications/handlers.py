"""core.events handlers: each turns a fact of a lower app into the influencer's notification.
They run in the publisher's transaction (core/events.py), so a rolled-back fact tells nobody."""

from typing import Any

from django.urls import reverse
from django.utils import timezone, translation

from affiliates.models import Influencer, Membership
from affiliates.selectors import manager_recipients
from brands.models import Brand
from campaigns.models import Campaign
from claims.models import Claim
from codes.models import Code
from codes.selectors import code_list_for_influencer
from core import batching
from core.money import format_minor
from creatives.selectors import creative_audience
from integrations.email import email_send
from notifications.models import Kind
from notifications.services import notification_create
from payments.models import Withdrawal


def _portal_url(name: str, brand: Brand) -> str:
    # Once per brand, page and language in a batch of orders (three commissions an order).
    return batching.memo(
        ("notifications.portal_url", name, brand.slug, translation.get_language()),
        lambda: reverse(name, kwargs={"brand_slug": brand.slug}),
    )


def on_commission(event: str) -> Any:
    def handler(*, brand_id: int, data: dict[str, Any]) -> None:
        influencer_id = data.get("influencer_id")
        if not influencer_id:
            return
        influencer = batching.memo(
            ("notifications.influencer", influencer_id),
            lambda: Influencer.objects.select_related("user").filter(pk=influencer_id).first(),
        )
        if influencer is None:
            return
        brand = batching.memo(("notifications.brand", brand_id), lambda: Brand.objects.get(pk=brand_id))
        # A partial reversal and then the rest are two facts; the same state twice is one.
        key = f"{event}:{data['id']}:{data.get('reversed_cents') or 0}"
        notification_create(
            brand=brand,
            influencer=influencer,
            kind=Kind.COMMISSION,
            event=event,
            key=key,
            params={
                "order": data.get("order_id"),
                "currency": data.get("currency"),
                "amount_cents": data.get("amount_cents"),
                "reversed_cents": data.get("reversed_cents") or data.get("amount_cents"),
            },
            url=_portal_url("portal:earnings", brand),
        )

    return handler


def on_withdrawal(event: str) -> Any:
    def handler(*, brand_id: int, data: dict[str, Any]) -> None:
        withdrawal = Withdrawal.objects.select_related("influencer__user", "brand").get(pk=data["id"])
        influencer, brand = withdrawal.influencer, withdrawal.brand
        reason = withdrawal.rejection_reason or withdrawal.failure_reason
        params = {
            "withdrawal": str(withdrawal),
            "currency": withdrawal.currency,
            "amount_cents": withdrawal.amount_cents,
            "withholding_cents": withdrawal.withholding_cents,
            "net_cents": withdrawal.net_cents,
            "reason": reason,
            "transfer_reference": withdrawal.transfer_reference,
        }
        language = getattr(influencer.user, "preferred_language", None) or None
        with translation.override(language):
            # Amounts written as the influencer reads them, not as the staff member's request did.
            context = {
                "withdrawal": str(withdrawal),
                "status": withdrawal.status,
                "status_label": str(withdrawal.get_status_display()),
                "amount": format_minor(withdrawal.amount_cents, withdrawal.currency),
                "withholding": format_minor(withdrawal.withholding_cents, withdrawal.currency),
                "net": format_minor(withdrawal.net_cents, withdrawal.currency),
                "reason": reason,
                "transfer_reference": withdrawal.transfer_reference,
                "path": _portal_url("portal:withdrawals", brand),
            }
        notification_create(
            brand=brand,
            influencer=influencer,
            kind=Kind.WITHDRAWAL,
            event=event,
            key=f"{event}:{withdrawal.pk}",
            params=params,
            url=_portal_url("portal:withdrawals", brand),
            email_template="withdrawal_status",
            email_context=context,
        )

    return handler


def _membership(data: dict[str, Any]) -> Membership:
    return Membership.objects.select_related("influencer__user", "brand").get(pk=data["membership_id"])


def on_membership(event: str) -> Any:
    def handler(*, brand_id: int, data: dict[str, Any]) -> None:
        membership = _membership(data)
        brand, influencer = membership.brand, membership.influencer
        previous = data.get("previous_status", "")
        reason = data.get("reason", "")
        params: dict[str, Any] = {"previous_status": previous, "reason": reason}
        if event == "influencer.approved" and previous == "pending":
            codes = code_list_for_influencer(influencer=influencer, brand=brand).filter(status=Code.Status.ACTIVE)
            params["codes"] = [str(c.text) for c in codes]
            template = "affiliates_approved"
            context: dict[str, Any] = {"codes": params["codes"], "campaigns": data.get("campaigns") or []}
        elif event == "influencer.rejected":
            template, context = "affiliates_rejected", {"reason": reason}
        else:
            status = {"influencer.approved": "approved", "influencer.suspended": "suspended"}.get(event, "blocked")
            template, context = "affiliates_status_changed", {"status": status, "reason": reason}
        notification_create(
            brand=brand,
            influencer=influencer,
            kind=Kind.APPLICATION,
            event=event,
            # A membership may be suspended and reinstated more than once: each time is a fact.
            key=f"{event}:{membership.pk}:{timezone.now().isoformat()}",
            params=params,
            url=_portal_url("portal:dashboard", brand),
            email_template=template,
            email_context=context,
        )

    return handler


def on_payout_account_changed(*, influencer: Influencer, actor: Any) -> None:
    """Shown in the centre of every brand the person works with (the security email itself is
    sent by affiliates, whatever the preferences)."""
    now = timezone.now().isoformat()
    memberships = Membership.objects.filter(influencer=influencer).exclude(status=Membership.Status.BLOCKED)
    for membership in memberships.select_related("brand"):
        notification_create(
            brand=membership.brand,
            influencer=influencer,
            kind=Kind.PAYOUT_DATA,
            event="payout_account.changed",
            key=f"payout_account.changed:{now}",
            url=_portal_url("portal:payout", membership.brand),
        )


def on_policy_published(*, brand_id: int, data: dict[str, Any]) -> None:
    """Every influencer working with the brand is asked to read and accept the new version."""
    brand = Brand.objects.get(pk=brand_id)
    memberships = Membership.objects.filter(
        brand=brand, status__in=[Membership.Status.APPROVED, Membership.Status.SUSPENDED]
    ).select_related("influencer__user")
    for membership in memberships.order_by("pk"):
        notification_create(
            brand=brand,
            influencer=membership.influencer,
            kind=Kind.POLICY,
            event="policy.published",
            key=f"policy.published:{data['policy_id']}",
            params={"kind": data.get("kind"), "version": data.get("version"), "title": data.get("title")},
            url=_portal_url("portal:dashboard", brand),
        )


def on_creative_published(*, brand_id: int, data: dict[str, Any]) -> None:
    """The campaign's influencers (those who see it in their library) hear of a new piece; the
    email waits for the daily summary, as a brand uploads several at once."""
    campaign = Campaign.objects.select_related("brand").filter(pk=data["campaign_id"]).first()
    if campaign is None:
        return
    for influencer in creative_audience(campaign=campaign):
        notification_create(
            brand=campaign.brand,
            influencer=influencer,
            kind=Kind.CREATIVE,
            event="creative.published",
            key=f"creative.published:{data['creative_id']}",
            params={"title": data.get("title"), "campaign": data.get("campaign"), "kind": data.get("kind")},
            url=_portal_url("portal:creatives", campaign.brand),
        )


def on_claim(event: str) -> Any:
    """The claimant hears of each step of their claim (in their language, as every notification);
    on a new claim, the brand's managers are emailed (each in their language) and the claim
    waits in the back office's "Claims to decide" queue."""

    def handler(*, brand_id: int, data: dict[str, Any]) -> None:
        influencer = Influencer.objects.select_related("user").filter(pk=int(data["influencer_id"])).first()
        brand = Brand.objects.get(pk=brand_id)
        if influencer is not None:
            notification_create(
                brand=brand,
                influencer=influencer,
                kind=Kind.CLAIM,
                event=event,
                key=f"{event}:{data['claim_id']}",
                params={"order": data.get("order_id"), "reason": data.get("reason") or ""},
                url=_portal_url("portal:claims", brand),
            )
        if event == "claim.submitted":
            _claim_tell_managers(brand=brand, data=data, influencer=influencer)

    return handler


def _claim_tell_managers(*, brand: Brand, data: dict[str, Any], influencer: Influencer | None) -> None:
    admin_path = reverse("admin:claims_claim_change", args=[data["claim_id"]])
    for manager in manager_recipients(brand=brand):
        language = getattr(manager, "preferred_language", "") or None
        with translation.override(language):
            finding = str(Claim.Finding(data["finding"]).label) if data.get("finding") in Claim.Finding else ""
        email_send(
            to=[manager.email],
            template="claims_submitted",
            language=language,
            context={
                "brand": brand.name,
                "sender_brand": brand.name,
                "influencer": influencer.display_name if influencer is not None else "",
                "order": data.get("order_id"),
                "finding": finding,
                "admin_path": admin_path,
            },
        )


EVENT_HANDLERS: dict[str, Any] = {
    **{name: on_commission(name) for name in ("commission.estimated", "commission.confirmed", "commission.reversed")},
    **{
        name: on_withdrawal(name)
        for name in (
            "withdrawal.requested",
            "withdrawal.approved",
            "withdrawal.rejected",
            "withdrawal.paid",
            "withdrawal.failed",
        )
    },
    **{
        name: on_membership(name)
        for name in ("influencer.approved", "influencer.rejected", "influencer.suspended", "influencer.blocked")
    },
    "payout_account.changed": on_payout_account_changed,
    "policy.published": on_policy_published,
    **{name: on_claim(name) for name in ("claim.submitted", "claim.accepted", "claim.rejected")},
    "creative.published": on_creative_published,
}
