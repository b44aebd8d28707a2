"""Back office for referrals: the list (scoped to the staff member's brands), each referral's
rewards with their explanation, and the referral tree per brand with totals. Read-only: a
referral is blocked or restored through the fraud review queue (commissions.referral_fraud)."""

from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from affiliates.models import Referral
from brands.admin_mixins import BrandScopedAdminMixin
from brands.models import Brand
from brands.scoping import brand_ids_for_user
from commissions.models import ReferralCommission
from commissions.referral_selectors import referral_tree, reward_explanation
from core.admin_actions import ReadOnlyAdminMixin
from core.admin_money import money_display


class RewardInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = ReferralCommission
    fk_name = "referral"
    extra = 0
    fields = ["created_at", "beneficiary", "level", "explanation", "stage", "posted"]
    readonly_fields = fields  # type: ignore[assignment]

    @admin.display(description=gettext_lazy("explanation"))
    def explanation(self, obj: ReferralCommission) -> str:
        return reward_explanation(obj)

    @admin.display(description=gettext_lazy("ledger stage"))
    def stage(self, obj: ReferralCommission) -> str:
        return str(obj.get_ledger_stage_display())

    @admin.display(description=gettext_lazy("posted to the ledger"))
    def posted(self, obj: ReferralCommission) -> str:
        return money_display(obj.ledger_posted_cents, obj.brand.currency)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["referrer", "referred", "campaign", "status", "started_at", "earned"]
    list_filter = ["brand", "status", "campaign"]
    search_fields = ["referrer__display_name", "referred__display_name", "referred__user__email"]
    list_select_related = ["brand", "campaign", "referrer", "referred"]
    fields = [
        "brand",
        "campaign",
        "referrer",
        "referred",
        "status",
        "status_reason",
        "self_signals",
        "started_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]
    inlines = [RewardInline]
    change_list_template = "admin/commissions/referral/change_list.html"

    @admin.display(description=gettext_lazy("earned by the referrer"))
    def earned(self, obj: Referral) -> str:
        total = sum(
            ReferralCommission.objects.filter(referral=obj, beneficiary_id=obj.referrer_id).values_list(
                "ledger_posted_cents", flat=True
            )
        )
        return money_display(total, obj.brand.currency)

    def get_urls(self) -> list[Any]:
        return [
            path("tree/", self.admin_site.admin_view(self.tree_view), name="commissions_referral_tree"),
            *super().get_urls(),
        ]

    def tree_view(self, request: HttpRequest) -> HttpResponse:
        """The referral forest of one brand (the first the staff member sees unless `?brand=`)."""
        if not self.has_view_permission(request):
            raise Http404
        allowed = brand_ids_for_user(request.user)
        brands = Brand.objects.order_by("name")
        if allowed is not None:
            brands = brands.filter(pk__in=allowed)
        wanted = request.GET.get("brand", "")
        brand = brands.filter(pk=int(wanted)).first() if wanted.isdigit() else brands.first()
        if wanted and brand is None:
            raise Http404  # another brand's tree does not exist for this person
        roots = referral_tree(brand_ids=allowed, brand_id=brand.pk) if brand else []
        context = {
            **self.admin_site.each_context(request),
            "title": _("Referral tree"),
            "opts": self.model._meta,
            "brand": brand,
            "brands": list(brands),
            "roots": roots,
        }
        return TemplateResponse(request, "admin/commissions/referral/tree.html", context)


@admin.register(ReferralCommission)
class ReferralCommissionAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["created_at", "beneficiary", "kind", "level", "explanation", "ledger_stage", "posted"]
    list_filter = ["brand", "kind", "level", "ledger_stage"]
    search_fields = ["beneficiary__display_name", "source__order__vtex_order_id"]
    list_select_related = ["brand", "beneficiary", "referral__referred", "source__order", "source__influencer"]

    @admin.display(description=gettext_lazy("explanation"))
    def explanation(self, obj: ReferralCommission) -> str:
        return reward_explanation(obj)

    @admin.display(description=gettext_lazy("posted to the ledger"))
    def posted(self, obj: ReferralCommission) -> str:
        return money_display(obj.ledger_posted_cents, obj.brand.currency)
