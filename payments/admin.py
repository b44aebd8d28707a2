"""Finance's back office: the withdrawal queue (approve, reject, pay, fail), payout batches with
cutoff progress and the bank file, withholding rules and payout settings; the ledger itself is
read-only. Every screen is scoped to the staff member's brands; every mutation is a service."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext
from simple_history.admin import SimpleHistoryAdmin

from brands.admin_mixins import BrandScopedAdminMixin
from brands.models import Brand
from brands.scoping import brand_ids_for_user
from core.admin_actions import ReadOnlyAdminMixin, run_each
from core.admin_exports import export_csv, export_xlsx
from core.admin_money import money_display
from core.errors import ApplicationError
from core.storage import private_file_response
from payments.forms import BatchCreateNowForm, MarkFailedForm, MarkPaidForm, RejectForm
from payments.models import (
    BankExport,
    CommissionPosition,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PaymentJob,
    PayoutBatch,
    PayoutSettings,
    Withdrawal,
    WithdrawalApproval,
    WithdrawalWithholding,
    WithholdingRule,
)
from payments.selectors import entries_net, withdrawal_context_get
from payments.services import (
    bank_export_build,
    withdrawal_approve,
    withdrawal_mark_failed,
    withdrawal_mark_paid,
    withdrawal_reject,
)
from payments.services.proofs import withdrawal_proof_link, withdrawal_proof_resolve
from payments.services.settings import payout_settings_save, withholding_rule_save
from payments.services.withdrawals import payment_job_create, payout_batch_create_now, payout_settings_for


def _money(cents: int | None, currency: str) -> str:
    return money_display(int(cents or 0), currency)


# --- Ledger (read-only) ---------------------------------------------------------------------


class LedgerEntryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LedgerEntry
    fields = ["account", "side", "amount_cents"]
    readonly_fields = ["account", "side", "amount_cents"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = [
        "id",
        "occurred_at",
        "brand",
        "influencer",
        "kind",
        "reference",
        "commission_ref",
        "withdrawal",
        "batch",
    ]
    list_filter = ["kind", "brand", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["reference", "commission_ref", "influencer__display_name", "memo"]
    list_select_related = ["brand", "influencer"]
    date_hierarchy = "occurred_at"
    inlines = [LedgerEntryInline]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "id",
        "occurred_at",
        "brand__slug",
        "influencer_id",
        "kind",
        "reference",
        "commission_ref",
        "withdrawal_id",
        "batch_id",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["id", "transaction", "account", "side", "amount_cents"]
    list_filter = ["side", "account__kind", "account__brand", "transaction__kind"]
    search_fields = ["transaction__reference", "transaction__commission_ref", "account__influencer__display_name"]
    list_select_related = ["transaction", "account"]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "id",
        "transaction_id",
        "transaction__kind",
        "transaction__reference",
        "account_id",
        "account__kind",
        "side",
        "amount_cents",
    ]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["id", "brand", "influencer", "kind", "currency", "balance"]
    list_filter = ["kind", "brand"]
    search_fields = ["influencer__display_name", "influencer__user__email"]
    list_select_related = ["brand", "influencer"]
    actions = [export_csv]
    export_fields = ["id", "brand__slug", "influencer_id", "kind", "currency"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # One query for the page: the balance is summed per row in SQL, not once per row.
        return super().get_queryset(request).annotate(balance_cents=entries_net("account"))

    @admin.display(description=gettext_lazy("balance (sum of entries)"), ordering="balance_cents")
    def balance(self, obj: Any) -> str:
        return _money(obj.balance_cents, obj.currency)


@admin.register(CommissionPosition)
class CommissionPositionAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = [
        "commission_ref",
        "brand",
        "influencer",
        "estimated_cents",
        "held_cents",
        "hold_until",
        "released_cents",
        "reversed_cents",
        "clawed_back_cents",
    ]
    list_filter = ["brand", ("hold_until", admin.DateFieldListFilter), ("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["commission_ref", "influencer__display_name"]
    list_select_related = ["brand", "influencer"]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "commission_ref",
        "brand__slug",
        "influencer_id",
        "estimated_cents",
        "held_cents",
        "hold_until",
        "released_cents",
        "reversed_cents",
        "clawed_back_cents",
    ]


# --- Withdrawals: the finance queue ---------------------------------------------------------


class WithdrawalApprovalInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WithdrawalApproval
    fields = ["approver", "created_at", "payout_account_version", "voided_at"]
    readonly_fields = ["approver", "created_at", "payout_account_version", "voided_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WithdrawalWithholdingInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WithdrawalWithholding
    fields = ["name", "rate", "base_cents", "amount_cents"]
    readonly_fields = ["name", "rate", "base_cents", "amount_cents"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NeedsSecondApprovalFilter(admin.SimpleListFilter):
    title = gettext_lazy("approvals")
    parameter_name = "approvals"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("waiting_second", _("Waiting for a second approval")), ("two", _("Needs two approvals"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "two":
            return queryset.filter(approvals_required=2)
        if self.value() == "waiting_second":
            return queryset.filter(status="requested", approvals_required=2).annotate(n=Count("approvals")).filter(n=1)
        return queryset


@admin.register(Withdrawal)
class WithdrawalAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    change_list_template = "admin/payments/withdrawal/change_list.html"
    change_form_template = "admin/payments/withdrawal/change_form.html"
    # The decision columns (status, approvals) come right after who and how much, so they stay
    # on screen at 1280 px beside the sidebar and the filters.
    list_display = [
        "__str__",
        "influencer",
        "amount",
        "status",
        "approvals_display",
        "net",
        "withholding",
        "brand",
        "automatic",
        "batch",
        "requested_at",
    ]
    list_filter = [
        "status",
        "brand",
        NeedsSecondApprovalFilter,
        "automatic",
        "batch",
        ("requested_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=id", "influencer__display_name", "influencer__user__email", "transfer_reference"]
    list_select_related = ["brand", "influencer", "batch"]
    date_hierarchy = "requested_at"
    inlines = [WithdrawalApprovalInline, WithdrawalWithholdingInline]
    actions = ["approve_selected", "batch_now_selected", export_csv, export_xlsx]
    export_fields = [
        "id",
        "brand__slug",
        "influencer_id",
        "influencer__display_name",
        "currency",
        "amount_cents",
        "withholding_cents",
        "net_cents",
        "status",
        "automatic",
        "batch_id",
        "requested_at",
        "approved_at",
        "paid_at",
        "transfer_reference",
        "rejection_reason",
        "failure_reason",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # A correlated count, not a JOIN: joining approvals would repeat each withdrawal once per
        # approval in anything aggregated over this queryset.
        approvals = (
            WithdrawalApproval.objects.filter(withdrawal=OuterRef("pk"))
            .order_by()
            .values("withdrawal")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(approval_count=Coalesce(Subquery(approvals, output_field=IntegerField()), Value(0)))
        )

    # The proof is a private file (no URL): shown as a link to an expiring, audited download.
    _HIDDEN_FIELDS = ("proof", "payout_change")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:  # type: ignore[override]
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [f.name for f in self.model._meta.fields if f.name not in self._HIDDEN_FIELDS]
        return [*names, "proof_link", "payout_change_display"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("proof of transfer"))
    def proof_link(self, obj: Withdrawal) -> str:
        if not obj.pk or not obj.proof:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:payments_withdrawal_proof", args=[obj.pk]),
            _("Download (link valid for 5 minutes, recorded in the audit log)"),
        )

    @admin.display(description=gettext_lazy("payout data change"))
    def payout_change_display(self, obj: Withdrawal) -> str:
        change = obj.payout_change or {}
        if not change:
            return "—"
        before, after = change.get("before") or {}, change.get("after") or {}
        keys = [k for k in ("holder_name", "document", "bank", "account_type", "account_number", "transfer_key")]
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((k, before.get(k, ""), after.get(k, "")) for k in keys if before.get(k, "") != after.get(k, "")),
        )
        return format_html(
            '<p class="errornote">{}</p><table><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("The influencer changed the payout data on %(at)s; approvals were voided. Approve again to pay.")
            % {"at": (change.get("at") or "")[:16].replace("T", " ")},
            _("approved (v%(n)s)") % {"n": change.get("from_version") or "—"},
            _("new (v%(n)s)") % {"n": change.get("to_version") or "—"},
            rows,
        )

    @admin.display(description=gettext_lazy("amount"), ordering="amount_cents")
    def amount(self, obj: Withdrawal) -> str:
        return _money(obj.amount_cents, obj.currency)

    @admin.display(description=gettext_lazy("withheld"))
    def withholding(self, obj: Withdrawal) -> str:
        return _money(obj.withholding_cents, obj.currency)

    @admin.display(description=gettext_lazy("net"))
    def net(self, obj: Withdrawal) -> str:
        return _money(obj.net_cents, obj.currency)

    @admin.display(description=gettext_lazy("approvals"))
    def approvals_display(self, obj: Any) -> str:
        return f"{getattr(obj, 'approval_count', 0)}/{obj.approvals_required}"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The decision screen: the withdrawal with what an approver weighs beside its amount."""
        obj = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if obj is not None:
            extra["context_panel"] = withdrawal_context_get(withdrawal=obj)
            extra["brand_tz"] = obj.brand.time_zone
        return super().change_view(request, object_id, form_url, extra)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # Totals over the filtered rows by primary key, so no join or annotation a filter adds
            # to the change list can count a withdrawal twice.
            rows = (
                Withdrawal.objects.filter(pk__in=context["cl"].queryset.values("pk"))
                .order_by()
                .values("currency", "status")
                .annotate(n=Count("id"), total=Sum("amount_cents"), withheld=Sum("withholding_cents"))
            )
            context["totals"] = [
                {
                    "currency": r["currency"],
                    "status": Withdrawal.Status(r["status"]).label,
                    "count": r["n"],
                    "total": _money(r["total"], r["currency"]),
                    "net": _money((r["total"] or 0) - (r["withheld"] or 0), r["currency"]),
                }
                for r in sorted(rows, key=lambda r: (r["currency"], r["status"]))
            ]
        return response

    @admin.action(description=gettext_lazy("Approve selected withdrawals"), permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        waiting: list[Withdrawal] = []

        def approve(withdrawal: Withdrawal) -> None:
            if withdrawal_approve(withdrawal=withdrawal, approver=request.user).status != Withdrawal.Status.APPROVED:
                waiting.append(withdrawal)

        run_each(
            self,
            request,
            queryset.order_by("pk"),
            approve,
            singular=gettext_noop("%(count)d approval recorded."),
            plural=gettext_noop("%(count)d approvals recorded."),
        )
        if waiting:
            self.message_user(
                request,
                ngettext(
                    "%(count)d withdrawal now waits for a second approval by someone else.",
                    "%(count)d withdrawals now wait for a second approval by someone else.",
                    len(waiting),
                )
                % {"count": len(waiting)},
            )

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("payments.approve_withdrawal"))

    @admin.action(description=gettext_lazy("Put approved withdrawals in a payout batch now"), permissions=["export"])
    def batch_now_selected(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> HttpResponse | None:
        by_brand: dict[int, list[int]] = {}
        for brand_id, pk in queryset.order_by("pk").values_list("brand_id", "pk"):
            by_brand.setdefault(brand_id, []).append(pk)
        batch = None
        for brand_id, ids in by_brand.items():
            brand = queryset.filter(brand_id=brand_id).first().brand  # type: ignore[union-attr]
            try:
                batch = payout_batch_create_now(brand=brand, actor=request.user, withdrawal_ids=ids)
            except ApplicationError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Batch %(batch)s created with %(count)d withdrawals; export its bank file.")
                    % {"batch": batch, "count": batch.withdrawals.count()},
                    messages.SUCCESS,
                )
        if batch is not None and len(by_brand) == 1:
            return HttpResponseRedirect(reverse("admin:payments_payoutbatch_change", args=[batch.pk]))
        return None

    def has_export_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("payments.export_payoutbatch"))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="payments_withdrawal_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="payments_withdrawal_reject"),
            path("<int:pk>/pay/", view(self.pay_view), name="payments_withdrawal_pay"),
            path("<int:pk>/fail/", view(self.fail_view), name="payments_withdrawal_fail"),
            path("<int:pk>/proof/", view(self.proof_view), name="payments_withdrawal_proof"),
            path("proof/<str:token>/", view(self.proof_download_view), name="payments_withdrawal_proof_download"),
            *super().get_urls(),
        ]

    def _get(self, request: HttpRequest, pk: int, permission: str) -> Withdrawal:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj

    def _back(self, obj: Withdrawal) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:payments_withdrawal_change", args=[obj.pk]))

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._get(request, pk, "payments.approve_withdrawal")
        if request.method != "POST":
            return self._back(obj)
        try:
            obj = withdrawal_approve(withdrawal=obj, approver=request.user)
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request, _("%(w)s: %(status)s.") % {"w": obj, "status": obj.get_status_display()}, messages.SUCCESS
            )
        return self._back(obj)

    def _form_view(
        self, request: HttpRequest, pk: int, *, permission: str, form_class: type[forms.Form], title: str, act: Any
    ) -> HttpResponse:
        obj = self._get(request, pk, permission)
        form = form_class(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                obj = act(obj, form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request, _("%(w)s: %(status)s.") % {"w": obj, "status": obj.get_status_display()}, messages.SUCCESS
                )
                return self._back(obj)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": title,
            "form": form,
            "amount": _money(obj.amount_cents, obj.currency),
            "net": _money(obj.net_cents, obj.currency),
        }
        return TemplateResponse(
            request, "payments/admin/withdrawal_form.html", context, status=400 if form.errors else 200
        )

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._form_view(
            request,
            pk,
            permission="payments.approve_withdrawal",
            form_class=RejectForm,
            title=_("Reject withdrawal"),
            act=lambda obj, data: withdrawal_reject(withdrawal=obj, actor=request.user, reason=data["reason"]),
        )

    def pay_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._form_view(
            request,
            pk,
            permission="payments.pay_withdrawal",
            form_class=MarkPaidForm,
            title=_("Mark withdrawal paid"),
            act=lambda obj, data: withdrawal_mark_paid(
                withdrawal=obj, actor=request.user, transfer_reference=data["transfer_reference"], proof=data["proof"]
            ),
        )

    def fail_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._form_view(
            request,
            pk,
            permission="payments.pay_withdrawal",
            form_class=MarkFailedForm,
            title=_("Transfer failed"),
            act=lambda obj, data: withdrawal_mark_failed(withdrawal=obj, actor=request.user, reason=data["reason"]),
        )

    def proof_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        """Issue an expiring link (audited) and follow it."""
        obj = self._get(request, pk, "payments.view_withdrawal")
        try:
            token = withdrawal_proof_link(withdrawal=obj, actor=request.user)
        except ApplicationError as exc:
            raise Http404(str(exc)) from exc
        return HttpResponseRedirect(reverse("admin:payments_withdrawal_proof_download", args=[token]))

    def proof_download_view(self, request: HttpRequest, token: str) -> HttpResponseBase:
        try:
            obj = withdrawal_proof_resolve(token=token, user=request.user)
        except ApplicationError as exc:
            return TemplateResponse(
                request,
                "payments/admin/proof_refused.html",
                {**self.admin_site.each_context(request), "message": exc.message, "title": _("Proof of transfer")},
                status=exc.status_code,
            )
        return private_file_response(obj.proof)


# --- Payout batches -------------------------------------------------------------------------


class BatchWithdrawalInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Withdrawal
    fields = ["influencer", "amount_cents", "withholding_cents", "status", "automatic", "requested_at"]
    readonly_fields = ["influencer", "amount_cents", "withholding_cents", "status", "automatic", "requested_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    change_form_template = "admin/payments/payoutbatch/change_form.html"
    change_list_template = "admin/payments/payoutbatch/change_list.html"
    list_display = [
        "__str__",
        "brand",
        "kind",
        "period_start",
        "period_end",
        "status",
        "progress",
        "stage",
        "released",
        "withdrawal_count",
        "withdrawal_total",
        "runs",
        "finished_at",
    ]
    list_filter = ["status", "kind", "brand", ("period_start", admin.DateFieldListFilter)]
    search_fields = ["brand__name", "brand__slug"]
    list_select_related = ["brand"]
    inlines = [BatchWithdrawalInline]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "id",
        "brand__slug",
        "period_start",
        "period_end",
        "status",
        "released_count",
        "released_cents",
        "progress_done",
        "progress_total",
        "runs",
        "finished_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(n_withdrawals=Count("withdrawals"), total_withdrawals=Sum("withdrawals__amount_cents"))
        )

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, obj: PayoutBatch) -> str:
        if not obj.progress_total:
            return "—" if obj.status != PayoutBatch.Status.READY else "100%"
        percent = 100 * obj.progress_done // obj.progress_total
        return format_html(
            '<progress max="100" value="{}"></progress> {}/{}', percent, obj.progress_done, obj.progress_total
        )

    @admin.display(description=gettext_lazy("released"), ordering="released_cents")
    def released(self, obj: PayoutBatch) -> str:
        return _money(obj.released_cents, obj.brand.currency)

    @admin.display(description=gettext_lazy("withdrawals"), ordering="n_withdrawals")
    def withdrawal_count(self, obj: Any) -> int:
        return int(getattr(obj, "n_withdrawals", 0))

    @admin.display(description=gettext_lazy("withdrawals total"))
    def withdrawal_total(self, obj: Any) -> str:
        return _money(getattr(obj, "total_withdrawals", 0), obj.brand.currency)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/bank-file/", view(self.bank_file_view), name="payments_payoutbatch_bank_file"),
            path("<int:pk>/pay/", view(self.pay_view), name="payments_payoutbatch_pay"),
            path("<int:pk>/fail/", view(self.fail_view), name="payments_payoutbatch_fail"),
            path("jobs/<int:job_pk>/", view(self.job_view), name="payments_paymentjob_progress"),
            path("now/", view(self.create_now_view), name="payments_payoutbatch_now"),
            *super().get_urls(),
        ]

    def _batch(self, request: HttpRequest, pk: int) -> PayoutBatch:
        batch = self.get_queryset(request).filter(pk=pk).first()
        if batch is None:
            raise Http404
        return batch

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        batch = self.get_queryset(request).filter(pk=object_id).first()
        extra: dict[str, Any] = dict(extra_context or {})
        if batch is not None:
            extra["approved_count"] = batch.withdrawals.filter(status=Withdrawal.Status.APPROVED).count()
            extra["payment_jobs"] = list(batch.payment_jobs.order_by("-pk")[:5])
            extra["can_pay"] = request.user.has_perm("payments.pay_withdrawal")
            extra["can_export"] = request.user.has_perm("payments.export_payoutbatch")
        return super().change_view(request, object_id, form_url, extra)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "can_batch_now": request.user.has_perm("payments.export_payoutbatch")}
        return super().changelist_view(request, extra)

    def bank_file_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = self._batch(request, pk)
        if request.method != "POST":
            options = payout_settings_for(brand=batch.brand)
            return render(
                request,
                "payments/admin/bank_file_confirm.html",
                self._context(
                    request,
                    original=batch,
                    title=_("Export the bank file"),
                    file_format=options.get_bank_file_format_display(),
                ),
            )
        try:
            filename, content = bank_export_build(batch=batch, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:payments_payoutbatch_change", args=[batch.pk]))
        content_type = "text/plain; charset=us-ascii" if filename.endswith(".rem") else "text/csv; charset=utf-8"
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response

    def _job_form_view(
        self, request: HttpRequest, pk: int, *, form_class: type[forms.Form], action: str, title: str
    ) -> HttpResponse:
        if not request.user.has_perm("payments.pay_withdrawal"):
            raise PermissionDenied
        batch = self._batch(request, pk)
        form = form_class(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = payment_job_create(
                    batch=batch,
                    actor=request.user,
                    action=action,
                    transfer_reference=form.cleaned_data.get("transfer_reference", ""),
                    proof=form.cleaned_data.get("proof"),
                    reason=form.cleaned_data.get("reason", ""),
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                return HttpResponseRedirect(reverse("admin:payments_paymentjob_progress", args=[job.pk]))
        approved = batch.withdrawals.filter(status=Withdrawal.Status.APPROVED)
        totals = approved.aggregate(n=Count("pk"), gross=Sum("amount_cents"), withheld=Sum("withholding_cents"))
        net = (totals["gross"] or 0) - (totals["withheld"] or 0)
        return TemplateResponse(
            request,
            "payments/admin/batch_job_form.html",
            self._context(
                request,
                original=batch,
                title=title,
                form=form,
                count=totals["n"],
                net=_money(net, batch.brand.currency),
            ),
            status=400 if form.errors else 200,
        )

    def pay_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._job_form_view(
            request, pk, form_class=MarkPaidForm, action=PaymentJob.Action.PAY, title=_("Mark the batch paid")
        )

    def fail_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._job_form_view(
            request, pk, form_class=MarkFailedForm, action=PaymentJob.Action.FAIL, title=_("The bank refused the batch")
        )

    def job_view(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        """The job's progress: the whole page, or (htmx polling) just the progress partial."""
        job = PaymentJob.objects.filter(pk=job_pk, batch__in=self.get_queryset(request)).select_related("batch").first()
        if job is None:
            raise Http404
        template = "payments/admin/payment_job.html"
        if getattr(request, "htmx", False) or request.headers.get("HX-Request"):
            template += "#progress"
        return TemplateResponse(
            request,
            template,
            self._context(request, job=job, original=job.batch, title=_("Payment of batch %(b)s") % {"b": job.batch}),
        )

    def create_now_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("payments.export_payoutbatch"):
            raise PermissionDenied
        brands = self._allowed_brands(request)
        form = BatchCreateNowForm(request.POST or None, brands=brands)
        if request.method == "POST" and form.is_valid():
            try:
                batch = payout_batch_create_now(brand=form.cleaned_data["brand"], actor=request.user)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Batch %(batch)s created with %(count)d withdrawals; export its bank file.")
                    % {"batch": batch, "count": batch.withdrawals.count()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payments_payoutbatch_change", args=[batch.pk]))
        return TemplateResponse(
            request,
            "payments/admin/batch_now.html",
            self._context(request, form=form, title=_("Pay approved withdrawals now")),
            status=400 if form.errors else 200,
        )

    def _allowed_brands(self, request: HttpRequest) -> QuerySet[Any]:
        allowed = brand_ids_for_user(request.user)
        brands = Brand.objects.filter(is_active=True).order_by("name")
        return brands if allowed is None else brands.filter(pk__in=allowed)


@admin.register(PaymentJob)
class PaymentJobAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["id", "batch", "action", "status", "done", "total", "created_by", "created_at", "finished_at"]
    list_filter = ["action", "status", "batch__brand"]
    list_select_related = ["batch", "batch__brand", "created_by"]
    fields = ["batch", "action", "status", "transfer_reference", "reason", "done", "total", "errors", "created_by"]
    readonly_fields = [
        "batch",
        "action",
        "status",
        "transfer_reference",
        "reason",
        "done",
        "total",
        "errors",
        "created_by",
    ]


@admin.register(BankExport)
class BankExportAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    list_display = ["id", "batch", "created_by", "created_at", "rows", "total_cents", "sha256"]
    list_filter = ["batch__brand", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["sha256", "created_by__email"]
    list_select_related = ["batch", "created_by"]


# --- Configuration --------------------------------------------------------------------------


@admin.register(WithholdingRule)
class WithholdingRuleAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = [
        "name",
        "brand",
        "country",
        "fiscal_regime",
        "rate",
        "base",
        "threshold_cents",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["brand", "country", "fiscal_regime", "base"]
    search_fields = ["name", "fiscal_regime"]
    list_select_related = ["brand"]
    autocomplete_fields = ["brand"]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "id",
        "brand__slug",
        "name",
        "country",
        "fiscal_regime",
        "rate",
        "base",
        "threshold_cents",
        "effective_from",
        "effective_to",
    ]

    def save_model(self, request: HttpRequest, obj: WithholdingRule, form: Any, change: bool) -> None:  # type: ignore[override]
        self.check_brand_allowed(request, obj)
        withholding_rule_save(rule=obj, actor=request.user, changed=list(form.changed_data))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # end a rule with "effective to"; past payouts keep their frozen copy


@admin.register(PayoutSettings)
class PayoutSettingsAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = [
        "brand",
        "automatic_payouts",
        "second_approval_threshold_cents",
        "payout_change_cooldown_hours",
        "payout_change_2fa_threshold_cents",
        "bank_file_format",
    ]
    list_filter = ["automatic_payouts"]
    search_fields = ["brand__name"]
    list_select_related = ["brand"]
    autocomplete_fields = ["brand"]

    def save_model(self, request: HttpRequest, obj: PayoutSettings, form: Any, change: bool) -> None:  # type: ignore[override]
        self.check_brand_allowed(request, obj)
        payout_settings_save(settings_row=obj, actor=request.user, changed=list(form.changed_data))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
