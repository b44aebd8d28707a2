from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.admin import SimpleHistoryAdmin

from brands.admin_mixins import BrandScopedAdminMixin
from brands.models import Brand
from campaigns.forms import (
    CampaignAdminForm,
    CampaignEligibilityForm,
    CampaignFromTemplateForm,
    CommissionRuleForm,
    ReferralProgramForm,
    VariantInlineFormSet,
)
from campaigns.models import (
    Campaign,
    CampaignEligibility,
    CampaignVariant,
    CommissionRule,
    CommissionTier,
    ReferralProgram,
)
from campaigns.services.campaigns import campaign_children_save, campaign_create_from_template, campaign_save
from campaigns.services.status import campaign_status_change
from campaigns.services.tier_placement import campaign_tiers_reevaluate
from core.admin_actions import run_each
from core.admin_exports import export_csv, export_xlsx
from core.errors import ApplicationError

# Success sentences of the status actions (msgids; run_each translates them).
MOVE_MESSAGES: dict[str, tuple[str, str]] = {
    Campaign.Status.SCHEDULED: (
        gettext_noop("%(count)d campaign scheduled."),
        gettext_noop("%(count)d campaigns scheduled."),
    ),
    Campaign.Status.ACTIVE: (
        gettext_noop("%(count)d campaign activated."),
        gettext_noop("%(count)d campaigns activated."),
    ),
    Campaign.Status.PAUSED: (gettext_noop("%(count)d campaign paused."), gettext_noop("%(count)d campaigns paused.")),
    Campaign.Status.ENDED: (gettext_noop("%(count)d campaign ended."), gettext_noop("%(count)d campaigns ended.")),
}


class CampaignVariantInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CampaignVariant
    formset = VariantInlineFormSet
    extra = 0
    fields = ["key", "name", "weight", "discount_percent"]


class CampaignEligibilityInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CampaignEligibility
    form = CampaignEligibilityForm
    extra = 0


class CommissionRuleInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CommissionRule
    form = CommissionRuleForm
    extra = 0

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "variant" and field is not None:
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            campaign_id = int(object_id) if object_id and str(object_id).isdigit() else 0
            field.queryset = CampaignVariant.objects.filter(campaign_id=campaign_id)  # type: ignore[attr-defined]
        return field


class CommissionTierInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CommissionTier
    extra = 0
    fields = ["name", "threshold", "bonus_percent"]


@admin.register(Campaign)
class CampaignAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    form = CampaignAdminForm
    list_display = [
        "name",
        "brand",
        "status",
        "starts_at_local",
        "ends_at_local",
        "attribution_window_days",
        "is_template",
        "participants",
    ]
    list_filter = ["brand", "status", "is_template", "open_to_all"]
    search_fields = ["name", "slug", "utm_source", "utm_campaign"]
    list_select_related = ["brand"]
    autocomplete_fields = ["brand"]
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "starts_at"
    readonly_fields = ["status", "status_changed_at", "template"]
    inlines = [
        CampaignVariantInline,
        CampaignEligibilityInline,
        CommissionRuleInline,
        CommissionTierInline,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "brand",
                    "name",
                    "slug",
                    "description",
                    "status",
                    "status_changed_at",
                    "is_template",
                    "template",
                ]
            },
        ),
        (_("Dates (brand time zone)"), {"fields": ["starts_at", "ends_at"]}),
        (_("Attribution and payouts"), {"fields": ["attribution_window_days", "hold_days", "order_cap_cents"]}),
        (
            _("VTEX promotion and codes"),
            {
                "fields": [
                    "utm_source",
                    "utm_campaign",
                    "vtex_promotion_id",
                    "discount_percent",
                    "code_max_usage",
                    "code_max_items_per_client",
                    "open_to_all",
                ]
            },
        ),
        (_("Tiers"), {"fields": ["tier_metric", "tier_period"]}),
    ]
    actions = [
        "make_scheduled",
        "make_active",
        "make_paused",
        "make_ended",
        "reevaluate_tiers",
        "create_from_template",
        export_csv,
        export_xlsx,
    ]
    export_fields = [
        "id",
        "brand__slug",
        "name",
        "status",
        "starts_at",
        "ends_at",
        "attribution_window_days",
        "hold_days",
        "utm_source",
        "utm_campaign",
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("starts"), ordering="starts_at")
    def starts_at_local(self, obj: Campaign) -> str:
        return timezone.localtime(obj.starts_at, obj.brand.tz).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("ends"), ordering="ends_at")
    def ends_at_local(self, obj: Campaign) -> str:
        return timezone.localtime(obj.ends_at, obj.brand.tz).strftime("%Y-%m-%d %H:%M") if obj.ends_at else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(participants_total=Count("assignments", filter=Q(assignments__is_active=True)))
        )

    @admin.display(description=_("participants"), ordering="participants_total")
    def participants(self, obj: Campaign) -> int:
        return obj.participants_total  # type: ignore[attr-defined, no-any-return]

    def _brand_for(self, request: HttpRequest, object_id: str | None) -> Brand | None:
        """The brand whose time zone the form's dates are in: the campaign's, or the one chosen in
        the form being posted."""
        if object_id:
            campaign = self.get_queryset(request).filter(pk=object_id).select_related("brand").first()
            if campaign is not None:
                return campaign.brand
        brand_id = request.POST.get("brand") or request.GET.get("brand")
        if brand_id and str(brand_id).isdigit():
            return Brand.objects.filter(pk=brand_id).first()
        return None

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        brand = self._brand_for(request, object_id)
        if brand is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(brand.tz):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        # Codes, assignments and orders hang off the campaign's brand (campaign_save refuses it too).
        return ["brand", *readonly] if obj is not None and obj.pk else readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.check_brand_allowed(request, obj)
        campaign_save(campaign=obj, actor=request.user, changed_fields=form.changed_data)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline rows (variants, eligibility, rules, tiers) are audited like every other change.
        campaign_children_save(
            campaign=form.instance,
            model=formset.model,
            save=lambda: super(CampaignAdmin, self).save_formset(request, form, formset, change),
            actor=request.user,
        )

    def _move(self, request: HttpRequest, queryset: QuerySet[Campaign], status: str) -> None:
        singular, plural = MOVE_MESSAGES[status]
        run_each(
            self,
            request,
            queryset.select_related("brand"),
            lambda c: campaign_status_change(campaign=c, to_status=status, actor=request.user),
            singular=singular,
            plural=plural,
        )

    @admin.action(description=_("Schedule (starts by itself on its start date)"), permissions=["change"])
    def make_scheduled(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, Campaign.Status.SCHEDULED)

    @admin.action(description=_("Activate now / resume"), permissions=["change"])
    def make_active(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, Campaign.Status.ACTIVE)

    @admin.action(description=_("Pause (codes are archived in VTEX until resumed)"), permissions=["change"])
    def make_paused(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, Campaign.Status.PAUSED)

    @admin.action(description=_("End (codes are archived in VTEX; cannot be undone)"), permissions=["change"])
    def make_ended(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, Campaign.Status.ENDED)

    @admin.action(description=_("Re-evaluate tiers now"), permissions=["change"])
    def reevaluate_tiers(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        run_each(
            self,
            request,
            queryset.select_related("brand"),
            lambda c: campaign_tiers_reevaluate(campaign=c, actor=request.user),
            singular=gettext_noop("Tiers re-evaluated for %(count)d campaign."),
            plural=gettext_noop("Tiers re-evaluated for %(count)d campaigns."),
        )

    @admin.action(description=_("Create a campaign from this template"), permissions=["add"])
    def create_from_template(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> HttpResponse | None:
        templates = list(queryset.filter(is_template=True)[:2])
        if len(templates) != 1:
            self.message_user(request, _("Select exactly one template."), messages.ERROR)
            return None
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_from_template", args=[templates[0].pk]))

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:template_id>/from-template/",
                self.admin_site.admin_view(self.from_template_view),
                name="campaigns_campaign_from_template",
            ),
            *super().get_urls(),
        ]

    def from_template_view(self, request: HttpRequest, template_id: int) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        template = get_object_or_404(
            self.get_queryset(request).select_related("brand"), pk=template_id, is_template=True
        )
        with timezone.override(template.brand.tz):
            form = CampaignFromTemplateForm(request.POST or None)
            if request.method == "POST" and form.is_valid():
                try:
                    campaign = campaign_create_from_template(
                        template=template,
                        name=form.cleaned_data["name"],
                        slug=form.cleaned_data["slug"] or None,
                        starts_at=form.cleaned_data["starts_at"],
                        ends_at=form.cleaned_data["ends_at"],
                        actor=request.user,
                    )
                except ApplicationError as exc:
                    for field, errors in exc.extra.get("errors", {"__all__": [str(exc)]}).items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    self.message_user(request, _("Campaign created from the template; review it and schedule it."))
                    return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("New campaign from %(template)s") % {"template": template.name},
                "template_campaign": template,
                "form": form,
                "media": self.media + form.media,
            }
            response = TemplateResponse(request, "admin/campaigns/campaign/from_template.html", context)
            response.render()
            return response


@admin.register(ReferralProgram)
class ReferralProgramAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    """Member-get-member per campaign (docs/referrals.md); off until enabled. Amounts are typed
    in the campaign brand's currency."""

    form = ReferralProgramForm
    list_display = ["campaign", "enabled", "rate_percent", "months", "second_level_rate_percent"]
    list_filter = ["enabled", "campaign__brand"]
    list_select_related = ["campaign__brand"]
    autocomplete_fields = ["campaign"]
    fields = [
        "campaign",
        "enabled",
        "rate_percent",
        "months",
        "bonus_cents",
        "bonus_threshold_cents",
        "second_level_rate_percent",
        "second_level_cap_cents",
    ]
