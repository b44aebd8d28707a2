"""Back office for applications: managers list, filter and open applications, read the KYC
documents and decide (one by one or in bulk). Every decision is a service call."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from simple_history.admin import SimpleHistoryAdmin

from affiliates.assignments import campaign_assign_influencer, campaign_unassign_influencer
from affiliates.forms import ApproveForm, ReasonForm
from affiliates.models import Influencer, KYCDocument, Membership, PolicyAcceptance, PolicyDocument
from affiliates.selectors import (
    application_duplicate_signals,
    application_fiscal_id_check,
    kyc_document_for_staff,
    membership_list_missing_consent,
)
from affiliates.services.decisions import membership_approve, membership_block, membership_reject, membership_suspend
from affiliates.services.policies import policy_publish
from audit.services import audit_record
from brands.admin_mixins import BrandScopedAdminMixin
from campaigns.models import Campaign, CampaignAssignment
from core.admin_actions import run_each
from core.admin_exports import export_csv, export_xlsx
from core.errors import ApplicationError
from core.storage import private_file_response

INFLUENCER_FIELDS = (
    "user",
    "display_name",
    "country",
    "document_type",
    "document_number",
    "phone",
    "handle",
    "instagram",
    "tiktok",
    "youtube",
    "audience_size",
    "fiscal_regime",
    "created_at",
    "updated_at",
)


@admin.register(Influencer)
class InfluencerAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    brand_field = "memberships__brand"
    list_display = ["display_name", "user", "country", "document_type", "audience_size", "created_at"]
    list_filter = ["country", "document_type"]
    search_fields = ["display_name", "handle", "user__email", "document_number", "instagram", "tiktok", "youtube"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    fields = INFLUENCER_FIELDS
    # The profile is shared by every brand the person works with: no brand edits it alone.
    # The person changes it from the portal (influencer_profile_update, audited); identity
    # changes go through support with new KYC.
    readonly_fields = INFLUENCER_FIELDS
    actions = [export_csv, export_xlsx]
    export_fields = ["id", "display_name", "handle", "country", "user__email", "audience_size", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # influencers come from applications

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConsentFilter(admin.SimpleListFilter):
    """Who has not yet accepted the brand's policy versions in force (re-consent after a new
    version is published)."""

    title = gettext_lazy("current policies")
    parameter_name = "consent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("missing", _("Not yet accepted")), ("accepted", _("Accepted"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() not in ("missing", "accepted"):
            return queryset
        missing = membership_list_missing_consent(memberships=queryset)
        if self.value() == "missing":
            return missing
        return queryset.exclude(pk__in=missing.values("pk"))


class AudienceFilter(admin.SimpleListFilter):
    title = gettext_lazy("audience")
    parameter_name = "audience"
    BUCKETS = {
        "lt10k": (0, 10_000),
        "10k-100k": (10_000, 100_000),
        "100k-1m": (100_000, 1_000_000),
        "gte1m": (1_000_000, None),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("lt10k", _("Under 10k")),
            ("10k-100k", _("10k – 100k")),
            ("100k-1m", _("100k – 1M")),
            ("gte1m", _("1M or more")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        bucket = self.BUCKETS.get(self.value() or "")
        if bucket is None:
            return queryset
        low, high = bucket
        queryset = queryset.filter(influencer__audience_size__gte=low)
        return queryset.filter(influencer__audience_size__lt=high) if high is not None else queryset


class KYCDocumentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = KYCDocument
    extra = 0
    can_delete = False
    fields = ("kind", "download", "content_type", "size", "uploaded_at")
    readonly_fields = ("kind", "download", "content_type", "size", "uploaded_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("document"))
    def download(self, obj: KYCDocument) -> str:
        url = reverse("admin:affiliates_membership_kyc", args=[obj.membership_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name or _("Open"))


# Success sentences of the reason-taking decisions (msgids; run_each translates them).
DECISION_MESSAGES = {
    "reject": (gettext_noop("%(count)d application rejected."), gettext_noop("%(count)d applications rejected.")),
    "suspend": (gettext_noop("%(count)d membership suspended."), gettext_noop("%(count)d memberships suspended.")),
    "block": (gettext_noop("%(count)d membership blocked."), gettext_noop("%(count)d memberships blocked.")),
}


class ApplicationDecisionMixin:
    """Per-object decision views and their bulk actions, all calling services."""

    model: type[Membership]
    admin_site: admin.AdminSite
    message_user: Callable[..., None]
    get_object: Callable[..., Any]
    has_change_permission: Callable[..., bool]
    get_queryset: Callable[..., QuerySet[Any]]

    def _campaigns_for(self, memberships: list[Membership]) -> QuerySet[Campaign]:
        brand_ids = {m.brand_id for m in memberships}
        return (
            Campaign.objects.filter(brand_id__in=brand_ids, is_template=False)
            .exclude(status=Campaign.Status.ENDED)
            .select_related("brand")
            .order_by("brand__name", "name")
        )

    def _decide(self, request: HttpRequest, memberships: list[Membership], decision: str) -> HttpResponse | None:
        """Show the decision form, or apply it; returns None when done (caller redirects)."""
        if decision == "approve":
            form: Any = ApproveForm(
                request.POST if "apply" in request.POST else None,
                campaigns=self._campaigns_for(memberships),
                initial={"campaigns": [m.campaign_id for m in memberships if m.campaign_id]},
            )
        else:
            form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            if decision == "approve":
                chosen = list(form.cleaned_data["campaigns"])
                run_each(
                    self,
                    request,
                    memberships,
                    lambda m: membership_approve(
                        membership=m, actor=request.user, campaigns=[c for c in chosen if c.brand_id == m.brand_id]
                    ),
                    singular=gettext_noop("%(count)d membership approved."),
                    plural=gettext_noop("%(count)d memberships approved."),
                )
            else:
                service = {"reject": membership_reject, "suspend": membership_suspend, "block": membership_block}[
                    decision
                ]
                reason = form.cleaned_data["reason"]
                singular, plural = DECISION_MESSAGES[decision]
                run_each(
                    self,
                    request,
                    memberships,
                    lambda m: service(membership=m, reason=reason, actor=request.user),
                    singular=singular,
                    plural=plural,
                )
            return None
        titles = {
            "approve": _("Approve"),
            "reject": _("Reject"),
            "suspend": _("Suspend"),
            "block": _("Block"),
        }
        context = {
            **self.admin_site.each_context(request),
            "title": titles[decision],
            "decision": decision,
            "memberships": memberships,
            "form": form,
            "opts": self.model._meta,
            "action_name": f"{decision}_selected",
            "selected_ids": [m.pk for m in memberships],
            "media": form.media,
        }
        return TemplateResponse(request, "admin/affiliates/membership/decide.html", context)

    # --- bulk actions (from the list) ---

    def _bulk(self, request: HttpRequest, queryset: QuerySet[Any], decision: str) -> HttpResponse | None:
        memberships = list(queryset.select_related("influencer__user", "brand", "campaign"))
        return self._decide(request, memberships, decision)

    @admin.action(description=gettext_lazy("Approve selected (assign campaigns, issue codes)"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._bulk(request, queryset, "approve")

    @admin.action(description=gettext_lazy("Reject selected, with a reason"), permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._bulk(request, queryset, "reject")

    @admin.action(description=gettext_lazy("Suspend selected, with a reason"), permissions=["change"])
    def suspend_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._bulk(request, queryset, "suspend")

    @admin.action(description=gettext_lazy("Block selected, with a reason"), permissions=["change"])
    def block_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._bulk(request, queryset, "block")

    # --- one membership ---

    def decision_view(self, request: HttpRequest, object_id: str, decision: str) -> HttpResponse:
        membership = self.get_object(request, object_id)
        if not self.has_change_permission(request, membership):
            raise PermissionDenied
        response = self._decide(request, [membership], decision)
        if response is not None:
            return response
        return HttpResponseRedirect(reverse("admin:affiliates_membership_change", args=[membership.pk]))

    def kyc_view(self, request: HttpRequest, object_id: str, doc_id: int) -> HttpResponseBase:
        """Serve a KYC document to staff of its brand who may view memberships."""
        document = kyc_document_for_staff(user=request.user, pk=doc_id)
        if document is None or str(document.membership_id) != str(object_id):
            raise Http404
        audit_record(
            action="kyc.document_viewed",
            target=document,
            actor=request.user,
            brand_id=document.membership.brand_id,
            after={"membership": document.membership_id, "kind": document.kind},
        )
        return private_file_response(
            document.file,
            download_name=f"kyc-{document.membership_id}-{document.kind}-{document.pk}.{document.extension}",
        )


MEMBERSHIP_FIELDS = (
    "influencer",
    "applicant",
    "fiscal_id_check",
    "duplicate_signals",
    "brand",
    "campaign",
    "status",
    "status_reason",
    "status_changed_at",
    "reviewed_by",
    "approved_at",
    "consents",
    "created_at",
)
POLICY_FIELDS = ("brand", "kind", "version", "title", "body", "published_at")


@admin.register(Membership)
class MembershipAdmin(ApplicationDecisionMixin, BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = [
        "influencer",
        "email",
        "brand",
        "country",
        "audience",
        "campaign",
        "status",
        "created_at",
        "status_changed_at",
    ]
    list_filter = ["status", "brand", "influencer__country", "campaign", AudienceFilter, ConsentFilter]
    search_fields = [
        "influencer__display_name",
        "influencer__user__email",
        "influencer__document_number",
        "influencer__instagram",
        "influencer__tiktok",
        "influencer__youtube",
    ]
    list_select_related = ["influencer__user", "brand", "campaign__brand"]
    date_hierarchy = "created_at"
    inlines = [KYCDocumentInline]
    change_form_template = "admin/affiliates/membership/change_form.html"
    fields = MEMBERSHIP_FIELDS
    readonly_fields = MEMBERSHIP_FIELDS
    actions = [
        "approve_selected",
        "reject_selected",
        "suspend_selected",
        "block_selected",
        export_csv,
        export_xlsx,
    ]
    export_fields = [
        "id",
        "influencer__display_name",
        "influencer__user__email",
        "influencer__country",
        "influencer__audience_size",
        "brand__slug",
        "campaign__slug",
        "status",
        "status_changed_at",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # memberships come from applications on the join page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        urls = [
            path(
                f"<path:object_id>/{decision}/",
                wrap(self.decision_view),
                {"decision": decision},
                name=f"affiliates_membership_{decision}",
            )
            for decision in ("approve", "reject", "suspend", "block")
        ]
        urls.append(path("<path:object_id>/kyc/<int:doc_id>/", wrap(self.kyc_view), name="affiliates_membership_kyc"))
        return urls + super().get_urls()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        membership = self.get_object(request, object_id)
        decisions = [
            (decision, label)
            for decision, status, label in (
                ("approve", Membership.Status.APPROVED, _("Approve")),
                ("reject", Membership.Status.REJECTED, _("Reject")),
                ("suspend", Membership.Status.SUSPENDED, _("Suspend")),
                ("block", Membership.Status.BLOCKED, _("Block")),
            )
            if membership.can_move_to(status)
        ]
        extra = {
            **(extra_context or {}),
            "decisions": decisions if self.has_change_permission(request, membership) else [],
        }
        return super().change_view(request, object_id, form_url, extra)

    @admin.display(description=gettext_lazy("email"), ordering="influencer__user__email")
    def email(self, obj: Membership) -> str:
        return obj.influencer.user.email

    @admin.display(description=gettext_lazy("country"), ordering="influencer__country")
    def country(self, obj: Membership) -> str:
        return obj.influencer.country

    @admin.display(description=gettext_lazy("audience"), ordering="influencer__audience_size")
    def audience(self, obj: Membership) -> int:
        return obj.influencer.audience_size

    @admin.display(description=gettext_lazy("applicant"))
    def applicant(self, obj: Membership) -> str:
        influencer = obj.influencer
        handles = [
            f"{n}: @{h}"
            for n, h in (
                ("Instagram", influencer.instagram),
                ("TikTok", influencer.tiktok),
                ("YouTube", influencer.youtube),
            )
            if h
        ]
        rows = [
            (_("Email"), influencer.user.email),
            (_("Country"), influencer.get_country_display()),
            (_("Document"), f"{influencer.get_document_type_display()} {influencer.document_number}"),
            (_("Phone"), influencer.phone),
            (_("Networks"), ", ".join(handles)),
            (_("Audience"), f"{influencer.audience_size:,}"),
        ]
        return format_html_join("", "<div><strong>{}</strong>: {}</div>", rows)

    @admin.display(description=gettext_lazy("fiscal id check"))
    def fiscal_id_check(self, obj: Membership) -> str:
        passes, message = application_fiscal_id_check(obj.influencer)
        return format_html(
            '<span class="{}" data-testid="fiscal-id-check">{} {}</span>',
            "ok" if passes else "errornote",
            "✓" if passes else "✗",
            message,
        )

    @admin.display(description=gettext_lazy("possible duplicate accounts"))
    def duplicate_signals(self, obj: Membership) -> str:
        signals = application_duplicate_signals(obj.influencer)
        if not signals:
            return _("None found (phone, social handles).")
        return format_html_join(
            "",
            '<div data-testid="duplicate-signal">{}: <a href="{}">{}</a> ({})</div>',
            (
                (
                    why,
                    reverse("admin:affiliates_influencer_change", args=[other.pk]),
                    other.display_name,
                    other.user.email,
                )
                for why, other in signals
            ),
        )

    @admin.display(description=gettext_lazy("consents"))
    def consents(self, obj: Membership) -> str:
        acceptances = PolicyAcceptance.objects.filter(
            influencer=obj.influencer, policy__brand=obj.brand
        ).select_related("policy")
        return (
            format_html_join(
                "",
                "<div>{} v{} · {} · {}</div>",
                # In the brand's time zone and the reader's format, not raw UTC.
                (
                    (
                        a.policy.get_kind_display(),
                        a.policy.version,
                        date_format(timezone.localtime(a.accepted_at, obj.brand.tz), "SHORT_DATETIME_FORMAT"),
                        a.ip or "—",
                    )
                    for a in acceptances
                ),
            )
            or "—"
        )


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(BrandScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "brand", "kind", "version", "published_at", "acceptance_count"]
    list_filter = ["brand", "kind"]
    search_fields = ["title", "version"]
    list_select_related = ["brand"]
    fields = POLICY_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A published version is evidence of what people accepted: it never changes.
        return POLICY_FIELDS if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            raise PermissionDenied
        self.check_brand_allowed(request, obj)
        try:
            created = policy_publish(
                brand=obj.brand,
                kind=obj.kind,
                version=obj.version,
                title=obj.title,
                body=obj.body,
                published_at=obj.published_at,
                actor=request.user,
            )
        except ApplicationError as exc:
            raise PermissionDenied(str(exc.message)) from exc
        obj.pk = created.pk

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(acceptances_total=Count("acceptances"))

    @admin.display(description=gettext_lazy("acceptances"), ordering="acceptances_total")
    def acceptance_count(self, obj: PolicyDocument) -> int:
        return obj.acceptances_total  # type: ignore[attr-defined, no-any-return]


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(BrandScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["influencer", "policy", "accepted_at", "ip"]
    list_filter = ["policy__brand", "policy__kind"]
    search_fields = ["influencer__display_name", "influencer__user__email"]
    list_select_related = ["influencer", "policy__brand"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CampaignAssignment)
class CampaignAssignmentAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    """Who takes part in which campaign. The codes app adds its "issue codes" action here
    (codes/admin.py): codes sit a floor above this one."""

    list_display = ["influencer", "campaign", "variant", "tier", "tier_metric_value", "is_active", "assigned_at"]
    list_filter = ["campaign__brand", "campaign", "variant__key", "tier", "is_active"]
    search_fields = ["influencer__display_name", "influencer__handle", "influencer__user__email", "campaign__name"]
    list_select_related = ["influencer", "campaign", "campaign__brand", "variant", "tier"]
    raw_id_fields = ["influencer"]
    actions = ["unassign", export_csv, export_xlsx]
    export_fields = [
        "id",
        "campaign__brand__slug",
        "campaign__name",
        "influencer__display_name",
        "variant__key",
        "tier__name",
        "tier_metric_value",
        "is_active",
        "assigned_at",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["campaign", "influencer"]
        return [
            "campaign",
            "influencer",
            "variant",
            "tier",
            "tier_metric_value",
            "tier_evaluated_at",
            "is_active",
            "assigned_at",
            "unassigned_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.check_brand_allowed(request, obj)
        if change:
            return
        assignment = campaign_assign_influencer(campaign=obj.campaign, influencer=obj.influencer, actor=request.user)
        obj.pk = assignment.pk

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description=gettext_lazy("Take out of the campaign (archives the code)"), permissions=["change"])
    def unassign(self, request: HttpRequest, queryset: QuerySet[CampaignAssignment]) -> None:
        run_each(
            self,
            request,
            queryset.select_related("campaign", "influencer"),
            lambda a: campaign_unassign_influencer(campaign=a.campaign, influencer=a.influencer, actor=request.user),
            singular=gettext_noop("%(count)d participant taken out of the campaign."),
            plural=gettext_noop("%(count)d participants taken out of their campaigns."),
        )
