"""What the platform knows about a claimed order: is it attributed, to whom, and if not to the
claimant, why. Read from the order as orders recorded it (its attribution decision, made by
tracking.attribution) and from tracking (fraud flags, visits the window dropped): no rule of
attribution is decided again here, only explained."""

from typing import Any

from django.utils.translation import gettext as _

from claims.models import Claim
from core.money import format_minor
from orders.models import Order
from tracking.selectors import fraud_flags_holding_order
from tracking.touchpoints import touchpoints_beyond_window

Finding = Claim.Finding


def order_finding(*, order: Order | None, influencer_id: int) -> tuple[str, dict[str, Any]]:
    """(finding, detail) for `order` claimed by `influencer_id`; `order` None: VTEX did not know
    it. The detail is JSON (stored on the claim) and holds ids and codes, not sentences: they are
    written in the reader's language by `finding_text`."""
    if order is None:
        return Finding.NOT_FOUND, {}
    flags = fraud_flags_holding_order(brand_id=order.brand_id, order_ref=order.vtex_order_id)
    beyond = [
        tp for tp in touchpoints_beyond_window(brand=order.brand, order=order) if tp.influencer_id == influencer_id
    ]
    placed = order.created_in_vtex_at
    detail: dict[str, Any] = {
        "order_status": order.status,
        "placed_at": placed.isoformat() if placed else None,
        "value_cents": order.value_cents,
        "currency": order.currency or order.brand.currency,
        "coupon": order.coupon,
        "source": order.attribution_source,
        "rule": order.attribution_rule,
        "attributed_to": (
            {"id": order.influencer.pk, "name": order.influencer.display_name} if order.influencer is not None else None
        ),
        "code": order.code.text if order.code_id and order.code else None,
        "fraud_flags": [{"id": f.pk, "rule": f.rule, "status": f.status} for f in flags],
        "beyond_window": [
            {
                "kind": tp.kind,
                "campaign_id": tp.campaign_id,
                "days_before": (placed - tp.occurred_at).days if placed and tp.occurred_at else None,
            }
            for tp in beyond
        ],
    }
    if order.influencer_id == influencer_id:
        return (Finding.FRAUD_HOLD if flags else Finding.CLAIMANT), detail
    if order.influencer_id is not None:
        if flags:
            return Finding.FRAUD_HOLD, detail
        if order.attribution_source == Order.AttributionSource.COUPON:
            return Finding.OTHER_CODE, detail
        return Finding.OTHER_LINK, detail
    if beyond:
        return Finding.OUTSIDE_WINDOW, detail
    if order.coupon:
        return Finding.UNKNOWN_CODE, detail
    return Finding.NO_CODE, detail


def finding_text(claim: Claim) -> str:
    """The finding in a sentence for the manager, in the active language."""
    d = claim.finding_detail or {}
    who = (d.get("attributed_to") or {}).get("name") or "—"
    rule = d.get("rule") or "—"
    f = claim.finding
    if f == Finding.NOT_FOUND:
        return _("VTEX does not know order %(order)s in the brand's account.") % {"order": claim.vtex_order_id}
    if f == Finding.CLAIMANT:
        return _("The order is already attributed to the claimant (%(rule)s).") % {"rule": rule}
    if f == Finding.FRAUD_HOLD:
        rules = ", ".join(str(r.get("rule")) for r in d.get("fraud_flags") or []) or "—"
        return _("Attributed to %(who)s, but its commission is on fraud hold (%(rules)s).") % {
            "who": who,
            "rules": rules,
        }
    if f == Finding.OTHER_CODE:
        return _("Attributed to %(who)s: the buyer typed their code %(code)s (%(rule)s).") % {
            "who": who,
            "code": d.get("code") or d.get("coupon") or "—",
            "rule": rule,
        }
    if f == Finding.OTHER_LINK:
        return _("Attributed to %(who)s by a tracked visit or a manual decision (%(rule)s).") % {
            "who": who,
            "rule": rule,
        }
    if f == Finding.OUTSIDE_WINDOW:
        days = [str(t.get("days_before")) for t in d.get("beyond_window") or [] if t.get("days_before") is not None]
        return _(
            "Not attributed: the claimant's tracked visit came %(days)s days before the order, outside the campaign's attribution window."
        ) % {"days": ", ".join(days) or "—"}
    if f == Finding.UNKNOWN_CODE:
        return _("Not attributed: the buyer typed %(coupon)s, which is not a code of the brand.") % {
            "coupon": d.get("coupon") or "—"
        }
    return _("Not attributed: the buyer typed no code and no tracked visit leads to the order.")


def finding_value(claim: Claim) -> str:
    """The order's value as people read it, or a dash."""
    d = claim.finding_detail or {}
    if d.get("value_cents") is None:
        return "—"
    return format_minor(int(d["value_cents"]), str(d.get("currency") or claim.brand.currency))
