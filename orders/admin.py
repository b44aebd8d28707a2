"""Back office for orders: orders with lines, status history, returns and attribution; raw
VTEX notifications; hook registrations; reconciliation runs with progress and discrepancies.
Reprocessing goes through orders.services; every list is scoped to the staff member's brands."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from brands.admin_mixins import BrandScopedAdminMixin
from core.admin_actions import ReadOnlyAdminMixin, run_each
from core.admin_exports import export_csv, export_xlsx
from core.admin_money import money_display
from orders.models import (
    Discrepancy,
    HookEvent,
    HookRegistration,
    Order,
    OrderLine,
    OrderStatusChange,
    ReconciliationRun,
    ReturnInvoice,
)
from orders.services import hook_event_reprocess, order_reprocess
from orders.services.discrepancies import discrepancy_mark_handled
from orders.statuses import VTEX_STATUS_LABELS, vtex_status_label


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = OrderLine
    extra = 0
    fields = [
        "item_index",
        "sku_id",
        "name",
        "quantity",
        "total_cents",
        "coupon_discount_cents",
        "is_gift",
        "returned_quantity",
        "removed_quantity",
    ]
    readonly_fields = fields  # type: ignore[assignment]


class VtexStatusFilter(admin.SimpleListFilter):
    """VTEX's statuses by their translated labels ("Payment approved", not `payment-approved`);
    a status VTEX adds later is offered as sent until it gets a label."""

    title = gettext_lazy("VTEX status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        seen = model_admin.get_queryset(request).order_by().values_list("status", flat=True).distinct()
        statuses = {s for s in seen if s} | set(VTEX_STATUS_LABELS)
        return sorted(((s, vtex_status_label(s)) for s in statuses), key=lambda pair: pair[1].lower())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(status=self.value()) if self.value() else queryset


class StatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = OrderStatusChange
    extra = 0
    fields = ["from_label", "to_label", "vtex_changed_at", "observed_at", "source"]
    readonly_fields = fields  # type: ignore[assignment]

    @admin.display(description=gettext_lazy("from"))
    def from_label(self, obj: OrderStatusChange) -> str:
        return vtex_status_label(obj.from_status) or "—"

    @admin.display(description=gettext_lazy("to"))
    def to_label(self, obj: OrderStatusChange) -> str:
        return vtex_status_label(obj.to_status)


class ReturnInvoiceInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = ReturnInvoice
    extra = 0
    fields = ["invoice_number", "value_cents", "issued_at", "items"]
    readonly_fields = fields  # type: ignore[assignment]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = [
        "vtex_order_id",
        "status_label",
        "value",
        "brand",
        "currency_check",
        "attribution_source",
        "influencer",
        "campaign",
        "coupon",
        "created_in_vtex_at",
    ]
    list_filter = ["brand", VtexStatusFilter, "currency_status", "attribution_source", "campaign"]
    search_fields = ["vtex_order_id", "order_group", "coupon", "influencer__display_name"]
    list_select_related = ["brand", "influencer", "campaign", "campaign__brand"]
    date_hierarchy = "created_in_vtex_at"
    readonly_fields = [*(f.name for f in Order._meta.fields if f.name != "status"), "status_label", "currency_check"]
    inlines = [OrderLineInline, StatusChangeInline, ReturnInvoiceInline]
    actions = ["reprocess", export_csv, export_xlsx]
    export_fields = [
        "vtex_order_id",
        "brand__slug",
        "status",
        "value_cents",
        "currency",
        "attribution_source",
        "attribution_rule",
        "influencer__display_name",
        "campaign__name",
        "coupon",
        "created_in_vtex_at",
        "invoiced_at",
        "canceled_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only fields, but managers open the page and run actions.
        return bool(request.user.has_perm("orders.view_order"))

    @admin.display(description=gettext_lazy("VTEX status"), ordering="status")
    def status_label(self, obj: Order) -> str:
        return vtex_status_label(obj.status)

    @admin.display(description=gettext_lazy("value"), ordering="value_cents")
    def value(self, obj: Order) -> str:
        return money_display(obj.value_cents, obj.currency or obj.brand.currency)

    @admin.display(description=gettext_lazy("currency check"), ordering="currency_status")
    def currency_check(self, obj: Order) -> str:
        """Why an order in another currency pays nothing, or the rate it was converted at."""
        if obj.currency_status == Order.CurrencyStatus.HELD:
            return _(
                "Held: VTEX reports this order in %(currency)s, the brand pays in %(brand_currency)s. "
                "No commission until a %(currency)s rate is set for the brand (Currency rates), "
                "then reprocess the order."
            ) % {"currency": obj.currency, "brand_currency": obj.brand.currency}
        if obj.currency_status == Order.CurrencyStatus.CONVERTED:
            return _("Converted from %(currency)s at %(rate)s %(brand_currency)s each.") % {
                "currency": obj.currency,
                "rate": obj.fx_rate,
                "brand_currency": obj.brand.currency,
            }
        return "—"

    @admin.action(description=gettext_lazy("Fetch again from VTEX and reprocess"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        run_each(
            self,
            request,
            queryset.order_by("pk")[:200],
            lambda order: order_reprocess(order_id=order.pk, actor=request.user),
            singular=gettext_noop("%(count)d order reprocessed."),
            plural=gettext_noop("%(count)d orders reprocessed."),
        )


@admin.register(HookEvent)
class HookEventAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["vtex_order_id", "brand", "state", "domain", "status", "attempts", "received_at", "processed_at"]
    list_filter = ["brand", "status", "state", "domain"]
    search_fields = ["vtex_order_id"]
    list_select_related = ["brand"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in HookEvent._meta.fields]
    actions = ["reprocess", export_csv]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("orders.view_hookevent"))

    @admin.action(description=gettext_lazy("Reprocess the notification (fetches the order)"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[HookEvent]) -> None:
        run_each(
            self,
            request,
            queryset.order_by("pk")[:200],
            lambda event: hook_event_reprocess(event_id=event.pk, actor=request.user),
            singular=gettext_noop("%(count)d notification reprocessed."),
            plural=gettext_noop("%(count)d notifications reprocessed."),
        )


@admin.register(HookRegistration)
class HookRegistrationAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["brand", "url", "configured_at", "last_checked_at", "last_check_result", "restored_count"]
    list_filter = ["last_check_result"]
    readonly_fields = [f.name for f in HookRegistration._meta.fields]


class DiscrepancyInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Discrepancy
    extra = 0
    fields = ["vtex_order_id", "kind", "resolved", "ours", "theirs", "note"]
    readonly_fields = fields  # type: ignore[assignment]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = [
        "brand",
        "day",
        "trigger",
        "status",
        "progress",
        "listed",
        "missing",
        "mismatched",
        "orphaned",
        "unresolved",
        "started_at",
    ]
    list_filter = ["brand", "status", "trigger"]
    date_hierarchy = "day"
    readonly_fields = [f.name for f in ReconciliationRun._meta.fields] + ["progress"]
    inlines = [DiscrepancyInline]
    actions = [export_csv]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("orders.view_reconciliationrun"))

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, obj: ReconciliationRun) -> str:
        if not obj.progress_total:
            return "—" if obj.status != ReconciliationRun.Status.RUNNING else _("listing…")
        percent = round(100 * obj.progress_done / obj.progress_total)
        return (
            format_html(
                '<progress max="{}" value="{}"></progress> {}/{}',
                obj.progress_total,
                obj.progress_done,
                obj.progress_done,
                obj.progress_total,
            )
            if obj.status == ReconciliationRun.Status.RUNNING
            else f"{percent}%"
        )


class DiscrepancyHandleForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept with the discrepancy and in the audit log."),
    )


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    """Open discrepancies are work: a person marks each handled with a note (audited); one a
    re-sync fixed is resolved already, with the re-sync's note and nobody in "handled by"."""

    list_display = ["vtex_order_id", "run", "kind", "resolved", "note", "resolved_by", "resolved_at"]
    list_filter = ["resolved", "kind", "run__brand", ("run__day", admin.DateFieldListFilter)]
    search_fields = ["vtex_order_id", "note"]
    list_select_related = ["run", "run__brand", "resolved_by"]
    actions = ["mark_handled", export_csv, export_xlsx]
    export_fields = [
        "run__brand__slug",
        "run__day",
        "vtex_order_id",
        "kind",
        "resolved",
        "note",
        "resolved_by",
        "resolved_at",
    ]

    def has_handle_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("orders.change_discrepancy"))

    @admin.action(description=gettext_lazy("Mark handled (with a note)"), permissions=["handle"])
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> HttpResponse | None:
        open_rows = queryset.filter(resolved=False).order_by("pk")
        form = DiscrepancyHandleForm(request.POST if "note" in request.POST else None)
        if form.is_bound and form.is_valid():
            run_each(
                self,
                request,
                open_rows,
                lambda d: discrepancy_mark_handled(discrepancy=d, actor=request.user, note=form.cleaned_data["note"]),
                singular=gettext_noop("%(count)d discrepancy marked handled."),
                plural=gettext_noop("%(count)d discrepancies marked handled."),
            )
            return None
        return TemplateResponse(
            request,
            "admin/orders/discrepancy/handle.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Mark discrepancies handled"),
                "form": form,
                "rows": open_rows,
                "selected": queryset.values_list("pk", flat=True),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
