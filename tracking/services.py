"""Writes of the tracking context: links, conversions, customer bindings, policies."""

import logging
import secrets
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.models import Influencer, Membership
from audit.services import audit_record
from brands.models import Brand
from core.errors import ApplicationError
from core.qr import public_qr_svg
from tracking.destinations import DestinationRefused, destination_check
from tracking.hashing import is_click_id, is_visitor_id
from tracking.link_cache import link_cache_invalidate, link_cache_invalidate_for, link_entry_load
from tracking.locks import link_lock, manual_attribution_lock_or_create
from tracking.models import AttributionPolicy, Conversion, CustomerBinding, Link, ManualAttribution
from tracking.selectors import attribution_policy_for, link_campaigns_for_influencer
from tracking.touchpoints import bindings_ahead_note

logger = logging.getLogger(__name__)

__all__ = [
    "DestinationRefused",
    "attribution_manual_record",
    "attribution_policy_save",
    "conversion_record",
    "customer_binding_record",
    "link_cache_invalidate_for",
    "link_create",
    "link_create_by_influencer",
    "link_deactivate",
    "link_qr_svg",
    "link_update",
    "links_issue_on_approval",
]

_SLUG_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: people retype links


class LinkRefused(ApplicationError):
    default_code = "link_refused"


def _new_slug(length: int = 7) -> str:
    return "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(length))


def _check_parties(*, campaign: Any, influencer: Any) -> None:
    if campaign.is_template:
        raise LinkRefused(_("Templates never run; create the link on a campaign."))
    if not Membership.objects.filter(
        influencer=influencer, brand_id=campaign.brand_id, status=Membership.Status.APPROVED
    ).exists():
        raise LinkRefused(
            _("%(who)s is not an approved influencer of %(brand)s.") % {"who": influencer, "brand": campaign.brand}
        )


def link_create(
    *,
    campaign: Any,
    influencer: Any,
    destination_url: str = "",
    label: str = "",
    slug: str = "",
    actor: Any = None,
    origin: str = Link.Origin.MANAGER,
) -> Link:
    """A tracked link of `influencer` in `campaign` to a page of the brand's store (the home
    page, the first store domain, when `destination_url` is empty). Warms the cache. Links an
    influencer makes (`origin="influencer"`) must be https."""
    brand = campaign.brand
    if not destination_url:
        domains = list(brand.store_domains or [])
        if not domains:
            raise LinkRefused(_("The brand has no store domains yet; a manager adds them on the brand."))
        destination_url = f"https://{domains[0]}/"
    destination_url = destination_url.strip()
    destination_check(destination_url, hosts=brand.store_domains, https_only=origin == Link.Origin.INFLUENCER)
    _check_parties(campaign=campaign, influencer=influencer)
    for _attempt in range(5):
        candidate = slug or _new_slug()
        try:
            with transaction.atomic():
                link = Link.objects.create(
                    brand=brand,
                    campaign=campaign,
                    influencer=influencer,
                    slug=candidate,
                    destination_url=destination_url,
                    label=label.strip()[:120],
                    origin=origin,
                )
                audit_record(
                    action="tracking.link_created",
                    target=link,
                    actor=actor,
                    brand_id=brand.pk,
                    after={
                        "slug": link.slug,
                        "destination": destination_url,
                        "influencer": influencer.pk,
                        "origin": origin,
                    },
                )
        except IntegrityError as exc:
            if (
                origin == Link.Origin.APPROVAL
                and Link.objects.filter(campaign=campaign, influencer=influencer, origin=origin).exists()
            ):
                raise  # not a slug collision: the campaign's approval link exists
            if slug:
                raise LinkRefused(_("The slug %(slug)s is taken; choose another.") % {"slug": slug}) from exc
            continue
        transaction.on_commit(partial(_cache_refresh, link.slug))
        return link
    raise LinkRefused(_("Could not find a free short link; try again."))


#: How many active links one influencer may keep with one brand: enough for every product they
#: show, few enough that a script cannot fill the table (and the redirect cache) with junk.
MAX_ACTIVE_LINKS_PER_BRAND = 200


def link_create_by_influencer(
    *, influencer: Any, brand: Any, destination_url: str, label: str = "", campaign_id: int | None = None, actor: Any
) -> Link:
    """An influencer's own link to a page of the brand's store (portal, API): https, a host on
    the brand's store domains, no onward redirect (`destination_check`), in a running campaign
    they take part in (the only one, or `campaign_id`). Refusals name the field they concern."""
    campaigns = link_campaigns_for_influencer(influencer=influencer, brand=brand)
    if campaign_id is not None:
        campaigns = [c for c in campaigns if c.pk == campaign_id]
        if not campaigns:
            raise LinkRefused(_("Choose one of your running campaigns with this brand."), extra={"field": "campaign"})
    if not campaigns:
        raise LinkRefused(_("You take part in no running campaign of this brand, so links cannot be tracked yet."))
    if len(campaigns) > 1:
        raise LinkRefused(_("Choose the campaign the link belongs to."), extra={"field": "campaign"})
    if not (destination_url or "").strip():
        raise DestinationRefused(_("Paste the address of a product or collection page of the store."))
    active = Link.objects.filter(influencer=influencer, brand=brand, is_active=True).count()
    if active >= MAX_ACTIVE_LINKS_PER_BRAND:
        raise LinkRefused(
            _("You have %(count)d active links with this brand, the most allowed; disable some you no longer share.")
            % {"count": active}
        )
    return link_create(
        campaign=campaigns[0],
        influencer=influencer,
        destination_url=destination_url,
        label=label,
        actor=actor,
        origin=Link.Origin.INFLUENCER,
    )


def links_issue_on_approval(*, brand_id: int, influencer_id: int, actor: Any = None) -> list[Link]:
    """One link to the store's home page in each running campaign the influencer takes part
    in, as approval issues a code. Idempotent (one approval link per campaign, a unique
    constraint backs it). A brand without store domains gets none: approval never fails for
    a link; the influencer makes theirs once a manager adds the domains."""

    brand = Brand.objects.get(pk=brand_id)
    if not brand.store_domains:
        logger.info("brand %s has no store domains: no link issued on approval", brand.slug)
        return []
    influencer = Influencer.objects.get(pk=influencer_id)
    issued = []
    for campaign in link_campaigns_for_influencer(influencer=influencer, brand=brand):
        existing = Link.objects.filter(campaign=campaign, influencer=influencer, origin=Link.Origin.APPROVAL).first()
        if existing is not None:
            issued.append(existing)
            continue
        try:
            with transaction.atomic():
                issued.append(
                    link_create(
                        campaign=campaign,
                        influencer=influencer,
                        actor=actor,
                        origin=Link.Origin.APPROVAL,
                    )
                )
        except IntegrityError:  # a concurrent approval made it first
            issued.append(Link.objects.get(campaign=campaign, influencer=influencer, origin=Link.Origin.APPROVAL))
    return issued


def _cache_refresh(slug: str) -> None:
    link_cache_invalidate(slugs=[slug])
    link_entry_load(slug)


def link_update(*, link: Link, destination_url: str | None = None, label: str | None = None, actor: Any = None) -> Link:
    with transaction.atomic():
        locked = link_lock(pk=link.pk)
        before = {"destination": locked.destination_url, "label": locked.label}
        if destination_url is not None:
            locked.destination_url = destination_check(destination_url, hosts=locked.brand.store_domains)
        if label is not None:
            locked.label = label[:120]
        locked.save(update_fields=["destination_url", "label", "updated_at"])
        audit_record(
            action="tracking.link_updated",
            target=locked,
            actor=actor,
            brand_id=locked.brand_id,
            before=before,
            after={"destination": locked.destination_url, "label": locked.label},
        )
    transaction.on_commit(lambda: link_cache_invalidate(slugs=[locked.slug]))
    return locked


def link_deactivate(*, link: Link, actor: Any = None) -> Link:
    """Turn a link off: `/r/<slug>` answers 404 from then on. Idempotent."""
    with transaction.atomic():
        locked = link_lock(pk=link.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active", "updated_at"])
            audit_record(action="tracking.link_deactivated", target=locked, actor=actor, brand_id=locked.brand_id)
    transaction.on_commit(lambda: link_cache_invalidate(slugs=[locked.slug]))
    return locked


def link_qr_svg(*, url: str, scale: int = 4) -> str:
    """An SVG QR code of `url`, to inline in the portal."""
    return public_qr_svg(url, scale=scale)


def attribution_policy_save(*, policy: AttributionPolicy, actor: Any = None) -> AttributionPolicy:
    """Save a campaign's attribution policy (admin form), audited. Its links' cache entries are
    dropped after commit by the `post_save` receiver wired in `tracking.apps`."""
    policy.full_clean()
    with transaction.atomic():
        policy.save()
        audit_record(
            action="tracking.attribution_policy_saved",
            target=policy,
            actor=actor,
            brand_id=policy.campaign.brand_id,
            after={
                "precedence": policy.precedence,
                "click_model": policy.click_model,
                "window_days": policy.window_days,
                "cross_device": policy.cross_device,
                "binding_days": policy.binding_days,
            },
        )
    return policy


class ConversionRefused(ApplicationError):
    default_code = "conversion_refused"


def conversion_record(
    *,
    brand: Any,
    order_ref: str,
    source: str,
    visitor_id: str = "",
    click_id: str = "",
    fingerprint: str = "",
    at: datetime | None = None,
) -> Conversion:
    """Link a VTEX order (id or order group) to a visitor, a click or, as the last fallback, a
    fingerprint. Idempotent: the same signal twice is one row."""
    order_ref = (order_ref or "").strip()[:64]
    if not order_ref or not all(c.isalnum() or c in "-_" for c in order_ref):
        raise ConversionRefused(_("Send the VTEX order id or order group (letters, digits and hyphens)."))
    visitor_id = visitor_id if is_visitor_id(visitor_id) else ""
    click_id = click_id.strip().upper() if is_click_id(click_id.strip().upper()) else ""
    if not (visitor_id or click_id or fingerprint):
        raise ConversionRefused(_("Send a visitor id or a click id with the order."))
    conversion, _created = Conversion.objects.get_or_create(
        brand=brand,
        order_ref=order_ref,
        visitor_id=visitor_id,
        click_id=click_id,
        source=source,
        defaults={"fingerprint": fingerprint[:32], "occurred_at": at or timezone.now()},
    )
    return conversion


def customer_binding_record(
    *, campaign: Any, influencer: Any, customer_hashes: list[str], order_ref: str, at: datetime | None = None
) -> list[CustomerBinding]:
    """Bind a customer to the influencer an order was attributed to, when the campaign's policy
    enables cross-device binding. The first binding wins; later orders do not move it. Call
    after the attribution decision commits."""

    policy = attribution_policy_for(campaign)
    if not policy.cross_device or not customer_hashes:
        return []
    at = at or timezone.now()
    expires = at + timedelta(days=policy.binding_days) if policy.binding_days else campaign.ends_at
    bindings = []
    for customer_hash in customer_hashes:
        binding, _created = CustomerBinding.objects.get_or_create(
            campaign=campaign,
            customer_hash=customer_hash,
            defaults={
                "brand_id": campaign.brand_id,
                "influencer": influencer,
                "order_ref": order_ref[:64],
                "bound_at": at,
                "expires_at": expires,
            },
        )
        bindings.append(binding)
        bindings_ahead_note(brand_id=campaign.brand_id, customer_hash=customer_hash)
    return bindings


class ManualAttributionRefused(ApplicationError):
    default_code = "manual_attribution_refused"


def attribution_manual_record(
    *,
    brand: Any,
    order_ref: str,
    influencer: Any,
    campaign: Any,
    reason: str,
    source_ref: str = "",
    actor: Any = None,
) -> ManualAttribution:
    """Record that a person decided `order_ref` belongs to `influencer` in `campaign`, with a
    reason; the next sync of the order applies it (`attribution_decide` reads it first). The
    caller re-applies the order in the same transaction so the decision and its effect commit
    together. Idempotent for the same decision; audited when it changes."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ManualAttributionRefused(
            _("Write the reason for the decision (at least 5 characters)."), extra={"field": "reason"}
        )
    if campaign.brand_id != brand.pk:
        raise ManualAttributionRefused(_("The campaign is not this brand's."))
    with transaction.atomic():
        decision, created = manual_attribution_lock_or_create(
            brand=brand,
            order_ref=order_ref,
            defaults={
                "influencer": influencer,
                "campaign": campaign,
                "reason": reason,
                "source_ref": source_ref[:64],
                "decided_by": actor if getattr(actor, "pk", None) else None,
            },
        )
        before: dict[str, Any] | None = None
        if not created:
            if (decision.influencer_id, decision.campaign_id) == (influencer.pk, campaign.pk):
                return decision
            before = {"influencer": decision.influencer_id, "campaign": decision.campaign_id, "reason": decision.reason}
            decision.influencer = influencer
            decision.campaign = campaign
            decision.reason = reason
            decision.source_ref = source_ref[:64]
            decision.decided_by = actor if getattr(actor, "pk", None) else None
            decision.save()
        audit_record(
            action="tracking.attribution_manual",
            target=decision,
            actor=actor,
            brand_id=brand.pk,
            before=before,
            after={
                "order": order_ref,
                "influencer": influencer.pk,
                "campaign": campaign.pk,
                "reason": reason,
                "source": source_ref,
            },
        )
    return decision
