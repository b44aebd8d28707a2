"""A brand's terms and privacy policy: publishing versions, resolving the versions an applicant
accepted, and re-consent when a new version appears."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.locks import influencer_lock
from affiliates.models import Influencer, PolicyAcceptance, PolicyDocument
from affiliates.selectors import policies_to_accept
from affiliates.services.validation import application_refused
from audit.services import audit_record
from brands.models import Brand
from core import events, request_context
from core.errors import ApplicationError, Conflict


def policy_consents_resolve(
    *, brand: Brand, terms_id: int | None, accept_terms: bool, privacy_id: int | None, accept_privacy: bool
) -> tuple[PolicyDocument | None, PolicyDocument | None]:
    """The policy versions the applicant saw (their ids, sent back by the join form or the API)
    and ticked, for `influencer_apply`/`membership_apply` to compare with the versions in
    force. An unticked box gives None (refused as "accept the terms")."""
    docs = {
        d.pk: d for d in PolicyDocument.objects.filter(brand=brand, pk__in=[i for i in (terms_id, privacy_id) if i])
    }
    terms = docs.get(terms_id or 0) if accept_terms else None
    privacy = docs.get(privacy_id or 0) if accept_privacy else None
    if terms is not None and terms.kind != PolicyDocument.Kind.TERMS:
        terms = None
    if privacy is not None and privacy.kind != PolicyDocument.Kind.PRIVACY:
        privacy = None
    if (accept_terms and terms is None) or (accept_privacy and privacy is None):
        raise application_refused(
            _("The terms or the privacy policy changed. Read them again and accept."), code="policy_changed"
        )
    return terms, privacy


def policy_publish(
    *,
    brand: Brand,
    kind: str,
    version: str,
    title: str,
    body: str,
    published_at: Any = None,
    actor: Any = None,
) -> PolicyDocument:
    """Publish a new version of a brand's terms or privacy policy. Versions are never edited:
    acceptances point at the exact text people agreed to."""
    if kind not in PolicyDocument.Kind.values:
        raise ApplicationError(_("Unknown policy kind."))
    version, title, body = version.strip(), title.strip(), body.strip()
    if not (version and title and body):
        raise ApplicationError(_("A policy needs a version, a title and its text."))
    if PolicyDocument.objects.filter(brand=brand, kind=kind, version=version).exists():
        raise Conflict(_("Version %(version)s already exists; publish a new version number.") % {"version": version})
    with transaction.atomic():
        policy = PolicyDocument.objects.create(
            brand=brand,
            kind=kind,
            version=version,
            title=title,
            body=body,
            published_at=published_at or timezone.now(),
        )
        audit_record(
            action="policy.published",
            target=policy,
            actor=actor,
            brand_id=brand.pk,
            after={"kind": kind, "version": version, "published_at": policy.published_at},
        )
        # Existing influencers are asked to accept it (notifications; the portal's re-consent).
        events.publish(
            "policy.published",
            brand_id=brand.pk,
            data={"policy_id": policy.pk, "kind": kind, "version": version, "title": title},
        )
    return policy


def policies_accept(
    *, influencer: Influencer, brand: Brand, policy_ids: Iterable[int], actor: Any = None
) -> list[PolicyAcceptance]:
    """Record that the influencer accepted the brand's policy versions now in force (re-consent
    after a new version). `policy_ids` are the versions the person was shown: if a newer one
    appeared meanwhile, nothing is recorded and they are asked to read it. Evidence (time,
    version, IP, user agent) is kept on the acceptance and in the audit log."""
    shown = set(policy_ids)
    with transaction.atomic():
        influencer_lock(pk=influencer.pk)  # one acceptance at a time per influencer
        pending = policies_to_accept(influencer=influencer, brand=brand)
        if not pending:
            return []
        if {p.pk for p in pending} - shown:
            raise Conflict(
                _("A newer version was published while you were reading. Read it and accept again."),
                code="policy_changed",
            )
        meta = request_context.current()
        accepted = []
        for policy in pending:
            acceptance = PolicyAcceptance.objects.create(
                policy=policy,
                influencer=influencer,
                ip=meta.ip,
                user_agent=meta.user_agent[:400],
                accepted_at=timezone.now(),
            )
            audit_record(
                action="policy.accepted",
                target=acceptance,
                actor=actor,
                brand_id=brand.pk,
                after={"kind": policy.kind, "version": policy.version, "policy_id": policy.pk, "ip": meta.ip},
            )
            accepted.append(acceptance)
    return accepted
