"""Back office for commission records: list with filters, search and exports; managers adjust
a commission with a reason (commissions.services.adjustments.commission_adjust, audited)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from brands.admin_mixins import BrandScopedAdminMixin
from commissions.models import Commission, CommissionAdjustment
from commissions.services.adjustments import commission_adjust
from core.admin_actions import ReadOnlyAdminMixin
from core.admin_exports import export_csv, export_xlsx
from core.admin_money import money_display
from core.errors import ApplicationError
from core.money_forms import MoneyFormField


class AdjustForm(forms.Form):
    """The amount as people write it in the brand's currency ("150.00", "-20,5", "1.500,00" in
    Spanish); the service takes minor units, which the money field hands over."""

    amount = MoneyFormField(
        label=gettext_lazy("Amount"),
        help_text=gettext_lazy("In the brand's currency, for example 150.00. Positive adds, negative takes back."),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].currency = currency  # type: ignore[attr-defined]


class AdjustmentInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = CommissionAdjustment
    extra = 0
    fields = ["amount_cents", "reason", "created_by", "created_at"]
    readonly_fields = fields  # type: ignore[assignment]


@admin.register(Commission)
class CommissionAdmin(BrandScopedAdminMixin):
    list_display = [
        "order_link",
        "line_sku",
        "influencer",
        "campaign",
        "state",
        "fraud_review",
        "base",
        "net",
        "rule_name",
        "created_at",
    ]
    list_filter = ["state", "fraud_review", "brand", "campaign", "ledger_stage"]
    search_fields = ["order__vtex_order_id", "influencer__display_name", "code__text"]
    list_select_related = ["order", "line", "influencer", "campaign", "campaign__brand", "brand"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Commission._meta.fields]
    inlines = [AdjustmentInline]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "order__vtex_order_id",
        "line__item_index",
        "line__sku_id",
        "influencer__display_name",
        "campaign__name",
        "state",
        "quantity",
        "units_reversed",
        "base_cents",
        "rate",
        "amount_cents",
        "reversed_cents",
        "adjustment_cents",
        "fraud_review",
        "rule_name",
        "created_at",
    ]
    change_form_template = "admin/commissions/commission/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("order"), ordering="order__vtex_order_id")
    def order_link(self, obj: Commission) -> str:
        return obj.order.vtex_order_id

    @admin.display(description=gettext_lazy("SKU"))
    def line_sku(self, obj: Commission) -> str:
        return f"#{obj.line.item_index} {obj.line.sku_id}"

    @admin.display(description=gettext_lazy("base"), ordering="base_cents")
    def base(self, obj: Commission) -> str:
        return money_display(obj.base_cents, obj.brand.currency)

    @admin.display(description=gettext_lazy("net commission"))
    def net(self, obj: Commission) -> str:
        return money_display(obj.net_cents, obj.brand.currency)

    def get_urls(self) -> list[Any]:
        urls = [
            path(
                "<int:pk>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="commissions_commission_adjust",
            )
        ]
        return urls + super().get_urls()

    def adjust_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        commission = self.get_queryset(request).filter(pk=pk).first()
        if commission is None:
            raise Http404
        if not request.user.has_perm("commissions.change_commission"):
            raise PermissionDenied
        form = AdjustForm(request.POST or None, currency=commission.brand.currency)
        if request.method == "POST" and form.is_valid():
            try:
                commission_adjust(
                    commission_id=commission.pk,
                    amount_cents=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, _("Commission adjusted."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:commissions_commission_change", args=[commission.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust commission %(ref)s") % {"ref": commission.ledger_ref},
            "commission": commission,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/commissions/commission/adjust.html", context)


from commissions import referral_admin  # noqa: E402,F401  (registers the referral admins)
