"""Reads for the affiliates context: policies in force, memberships a person may see, pending
applications for a manager, KYC documents an authorised staff member may open."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.email_branding import Branding
from accounts.models import User
from affiliates.documents import DocumentInvalid, document_validate
from affiliates.models import Influencer, KYCDocument, Membership, PayoutAccount, PolicyAcceptance, PolicyDocument
from brands.models import Brand
from brands.scoping import brand_ids_for_user, scope_queryset
from campaigns.models import Campaign
from core.generations import CachedRead, generation_cached, generations_move_on_commit

_POLICY_CACHE_SECONDS = 60 * 60  # a safety net: signals move the scopes


def policy_current(*, brand: Brand, kind: str) -> PolicyDocument | None:
    """The version of a brand's policy in force now: the latest one already published."""
    return (
        PolicyDocument.objects.filter(brand=brand, kind=kind, published_at__lte=timezone.now())
        .order_by("-published_at", "-pk")
        .first()
    )


def policy_current_pair(*, brand: Brand) -> tuple[PolicyDocument | None, PolicyDocument | None]:
    return (
        policy_current(brand=brand, kind=PolicyDocument.Kind.TERMS),
        policy_current(brand=brand, kind=PolicyDocument.Kind.PRIVACY),
    )


def policies_to_accept(*, influencer: Influencer, brand: Brand) -> list[PolicyDocument]:
    """The brand's policy versions in force that the influencer has not accepted (a new version
    was published since they joined). Empty when they are up to date."""
    current = [p for p in policy_current_pair(brand=brand) if p is not None]
    if not current:
        return []
    accepted = set(
        PolicyAcceptance.objects.filter(influencer=influencer, policy__in=current).values_list("policy_id", flat=True)
    )
    return [p for p in current if p.pk not in accepted]


def _policies_scope(brand_id: int) -> str:
    return f"b{brand_id}:policies"


def _consent_scope(influencer_id: int) -> str:
    return f"i{influencer_id}:consent"


def policies_pending_cached_read(*, influencer_id: int, brand_id: int) -> CachedRead:
    """Where `policies_pending`'s answer is cached (for a page that prefetches its facts)."""
    return CachedRead(
        scopes=(_policies_scope(brand_id), _consent_scope(influencer_id)),
        key=f"policies:pending:{brand_id}:{influencer_id}",
    )


def policies_pending(*, influencer: Influencer, brand: Brand) -> bool:
    """Whether the influencer still has to accept a policy version in force: every portal page
    asks, so the answer is cached until the brand publishes a version, the influencer accepts
    one, or a version scheduled for later comes into force. Writes that must be exact (accepting)
    ask `policies_to_accept` itself."""

    def seconds_until_next_version(_generations: list[int]) -> int:
        upcoming = (
            PolicyDocument.objects.filter(brand=brand, published_at__gt=timezone.now())
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )
        if upcoming is None:
            return _POLICY_CACHE_SECONDS
        return max(0, min(_POLICY_CACHE_SECONDS, int((upcoming - timezone.now()).total_seconds())))

    read = policies_pending_cached_read(influencer_id=influencer.pk, brand_id=brand.pk)
    pending = generation_cached(
        scopes=list(read.scopes),
        key=read.key,
        build=lambda: [p.pk for p in policies_to_accept(influencer=influencer, brand=brand)],
        timeout=seconds_until_next_version,
    )
    return bool(pending)


def on_policy_changed(sender: Any, instance: PolicyDocument, **kwargs: Any) -> None:
    """post_save / post_delete of a policy version: the brand's influencers are asked again."""
    generations_move_on_commit([_policies_scope(instance.brand_id)])


def on_acceptance_changed(sender: Any, instance: PolicyAcceptance, **kwargs: Any) -> None:
    """post_save / post_delete of an acceptance: that influencer's answer is asked again."""
    generations_move_on_commit([_consent_scope(instance.influencer_id)])


def membership_list_missing_consent(*, memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Of `memberships`, those whose influencer has not accepted every policy version in force
    of the membership's brand (for managers: who still has to re-consent)."""
    now = timezone.now()
    current: dict[tuple[int, str], PolicyDocument] = {}
    for policy in PolicyDocument.objects.filter(published_at__lte=now).order_by("published_at", "pk"):
        current[(policy.brand_id, policy.kind)] = policy  # the latest wins
    missing = Q(pk__in=[])
    for policy in current.values():
        accepted = PolicyAcceptance.objects.filter(policy=policy, influencer=OuterRef("influencer"))
        missing |= Q(brand_id=policy.brand_id) & ~Q(Exists(accepted))
    return memberships.filter(missing)


def brand_for_join(*, slug: str) -> Brand | None:
    return Brand.objects.filter(slug=slug, is_active=True).first()


def campaign_list_open_for_application(*, brand: Brand) -> QuerySet[Campaign]:
    return Campaign.objects.filter(
        brand=brand, is_template=False, status__in=[Campaign.Status.ACTIVE, Campaign.Status.SCHEDULED]
    ).order_by("name")


def influencer_for_user(*, user: Any) -> Influencer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Influencer.objects.filter(user_id=user.pk).first()


def membership_list_for_user(*, user: Any) -> QuerySet[Membership]:
    """Memberships of the signed-in influencer, blocked ones excluded: a blocked person has no
    portal with that brand."""
    return (
        Membership.objects.filter(influencer__user_id=user.pk)
        .exclude(status=Membership.Status.BLOCKED)
        .select_related("brand", "influencer__user")
        .order_by("brand__name")
    )


def membership_for_portal(*, user: Any, brand_slug: str) -> Membership | None:
    return membership_list_for_user(user=user).filter(brand__slug=brand_slug).first()


def membership_list_for_staff(*, user: Any) -> QuerySet[Membership]:
    return scope_queryset(Membership.objects.all(), brand_ids_for_user(user), brand_field="brand")


def application_pending_count(*, user: Any) -> int:
    return membership_list_for_staff(user=user).filter(status=Membership.Status.PENDING).count()


def kyc_document_for_staff(*, user: Any, pk: int) -> KYCDocument | None:
    """A KYC document the staff member may open: their brand's, and they may view KYC documents."""
    if not (getattr(user, "is_staff", False) and user.is_active and user.has_perm("affiliates.view_kycdocument")):
        return None
    queryset = scope_queryset(
        KYCDocument.objects.select_related("membership__brand", "membership__influencer"),
        brand_ids_for_user(user),
        brand_field="membership__brand",
    )
    return queryset.filter(pk=pk).first()


def payout_account_get(*, influencer: Influencer) -> PayoutAccount | None:
    return PayoutAccount.objects.filter(influencer=influencer).first()


def manager_recipients(*, brand: Brand) -> list[User]:
    """Active staff of the brand who may decide on applications (change_membership)."""
    permission = Permission.objects.filter(content_type__app_label="affiliates", codename="change_membership").first()
    if permission is None:
        return []
    return list(
        User.objects.filter(is_active=True, is_staff=True, brand_access__brand=brand)
        .filter(Q(groups__permissions=permission) | Q(user_permissions=permission))
        .distinct()
        .order_by("email")
    )


def influencer_email_branding(email: str) -> Branding | None:
    """For account emails (accounts.email_branding): an influencer hears from the brand they
    work with (the first they joined, approved ones first), in their own language."""
    influencer = Influencer.objects.select_related("user").filter(user__email__iexact=email).first()
    if influencer is None:
        return None
    memberships = Membership.objects.filter(influencer=influencer).exclude(status=Membership.Status.BLOCKED)
    membership = (
        memberships.select_related("brand")
        .order_by(
            # approved first, then by age
            Case(When(status=Membership.Status.APPROVED, then=0), default=1),
            "pk",
        )
        .first()
    )
    language = influencer.user.preferred_language
    if membership is None:
        return Branding(name=settings.PLATFORM_NAME, language=language)
    brand = membership.brand
    return Branding(name=brand.name, color=brand.primary_color, home_path=f"/portal/{brand.slug}/", language=language)


def application_fiscal_id_check(influencer: Influencer) -> tuple[bool, str]:
    """(passes, what to tell the manager) for the applicant's fiscal document, checked now by the
    same validator the join form uses (check digits included), so a number that got in before a
    rule was tightened shows up on the decision screen."""
    if not influencer.document_number:
        return False, str(_("No fiscal document given."))
    try:
        document_validate(
            country=influencer.country, document_type=influencer.document_type, number=influencer.document_number
        )
    except DocumentInvalid as exc:
        return False, str(exc.message)
    return True, str(_("Valid: format and check digits verified."))


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def application_duplicate_signals(influencer: Influencer, *, limit: int = 10) -> list[tuple[str, Influencer]]:
    """Other influencers who share a phone number or a social handle with this applicant: the
    usual signs of a second account of the same person (the fiscal document is unique, so it
    cannot repeat). (why, who) pairs, at most `limit`."""
    found: list[tuple[str, Influencer]] = []
    phone = _digits(influencer.phone)
    others = Influencer.objects.exclude(pk=influencer.pk).select_related("user")
    if len(phone) >= 7:
        # Compare the last 8 digits: the same number is typed with or without the country code.
        for other in others.filter(phone__contains=phone[-4:]).only("pk", "display_name", "phone", "user__email")[:200]:
            if _digits(other.phone)[-8:] == phone[-8:]:
                found.append((str(_("same phone number")), other))
    for network in ("instagram", "tiktok", "youtube"):
        handle = (getattr(influencer, network) or "").strip().lstrip("@")
        if handle:
            for other in others.filter(**{f"{network}__iexact": handle})[:limit]:
                found.append((str(_("same %(network)s handle") % {"network": network.capitalize()}), other))
    return found[:limit]


def influencer_for_join_session(*, pk: int) -> Influencer | None:
    """The applicant who finished step 1 of the join page in this session, while their account
    has never been signed in to (after that, step 2 needs signing in)."""
    return (
        Influencer.objects.select_related("user")
        .filter(pk=pk, user__is_active=True, user__is_staff=False, user__last_login__isnull=True)
        .first()
    )


def join_unfinished_brand(*, influencer: Influencer) -> Brand | None:
    """The brand whose join page the influencer left after step 1 (they accepted its policies
    but sent no application): the portal sends them back to finish step 2."""
    applied = Membership.objects.filter(influencer=influencer).values("brand_id")
    acceptance = (
        PolicyAcceptance.objects.filter(influencer=influencer, policy__brand__is_active=True)
        .exclude(policy__brand_id__in=applied)
        .select_related("policy__brand")
        .order_by("-accepted_at", "-pk")
        .first()
    )
    return acceptance.policy.brand if acceptance is not None else None
