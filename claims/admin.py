"""Back office for missing-order claims: the queue (filters, search, exports), each claim with
what the platform found about its order (why it is or is not the claimant's), the buyer's
message and screenshot, and the decision: accept or reject with a reason, or fetch the order
again. Every mutation is one call to a claims service."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from brands.admin_mixins import BrandScopedAdminMixin
from claims.findings import finding_text, finding_value
from claims.models import Claim
from claims.services import claim_accept, claim_refresh, claim_reject
from core.admin_exports import export_csv, export_xlsx
from core.errors import ApplicationError
from core.storage import private_file_response


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("accept", gettext_lazy("Accept: attribute the order")), ("reject", gettext_lazy("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Recorded with the decision and shown to the influencer."),
    )


@admin.register(Claim)
class ClaimAdmin(BrandScopedAdminMixin):
    list_display = [
        "vtex_order_id",
        "influencer",
        "campaign",
        "status",
        "finding",
        "order_value",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "finding", "source", "brand", "campaign"]
    search_fields = ["vtex_order_id", "influencer__display_name", "influencer__user__email"]
    list_select_related = ["brand", "campaign", "campaign__brand", "influencer"]
    date_hierarchy = "created_at"
    actions = ["refresh_from_vtex", export_csv, export_xlsx]
    export_fields = [
        "id",
        "vtex_order_id",
        "influencer__display_name",
        "campaign__name",
        "status",
        "finding",
        "source",
        "order_placed_at",
        "buyer_message",
        "created_at",
        "decided_at",
        "decision_reason",
    ]
    fieldsets = [
        (None, {"fields": ["brand", "campaign", "influencer", "vtex_order_id", "order", "status", "source"]}),
        (
            gettext_lazy("What the platform found"),
            {"fields": ["why", "order_value", "order_placed_at", "fraud", "checked_at", "finding_detail"]},
        ),
        (gettext_lazy("Evidence"), {"fields": ["buyer_message", "evidence_link", "created_at", "submitted_by"]}),
        (gettext_lazy("Decision"), {"fields": ["decided_at", "decided_by", "decision_reason"]}),
    ]
    readonly_fields = [
        "brand",
        "campaign",
        "influencer",
        "vtex_order_id",
        "order",
        "status",
        "source",
        "why",
        "order_value",
        "order_placed_at",
        "fraud",
        "checked_at",
        "finding_detail",
        "buyer_message",
        "evidence_link",
        "created_at",
        "submitted_by",
        "decided_at",
        "decided_by",
        "decision_reason",
    ]
    change_form_template = "admin/claims/claim/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # influencers claim in the portal, brands' systems through the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("why"))
    def why(self, obj: Claim) -> str:
        return finding_text(obj)

    @admin.display(description=gettext_lazy("order value"))
    def order_value(self, obj: Claim) -> str:
        return finding_value(obj)

    @admin.display(description=gettext_lazy("fraud flags"))
    def fraud(self, obj: Claim) -> str:
        flags = (obj.finding_detail or {}).get("fraud_flags") or []
        if not flags:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{} ({})</a>',
            (
                (reverse("admin:tracking_fraudflag_change", args=[f["id"]]), f.get("rule"), f.get("status"))
                for f in flags
            ),
        )

    @admin.display(description=gettext_lazy("screenshot"))
    def evidence_link(self, obj: Claim) -> str:
        if not obj.evidence:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:claims_claim_evidence", args=[obj.pk]), _("Open the screenshot")
        )

    @admin.action(description=gettext_lazy("Fetch the order again from VTEX"), permissions=["change"])
    def refresh_from_vtex(self, request: HttpRequest, queryset: Any) -> None:
        done = 0
        for claim in queryset.filter(status=Claim.Status.OPEN):
            try:
                claim_refresh(claim_id=claim.pk, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{claim.vtex_order_id}: {exc}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("%(n)s open claims checked again.") % {"n": done}, messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="claims_claim_decide"),
            path("<int:pk>/evidence/", self.admin_site.admin_view(self.evidence_view), name="claims_claim_evidence"),
            *super().get_urls(),
        ]

    def _claim_or_404(self, request: HttpRequest, pk: int) -> Claim:
        claim = self.get_queryset(request).filter(pk=pk).first()
        if claim is None:
            raise Http404
        return claim

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        claim = self._claim_or_404(request, pk)
        if not self.has_change_permission(request, claim):
            raise PermissionDenied
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            service = claim_accept if form.cleaned_data["decision"] == "accept" else claim_reject
            try:
                service(claim_id=claim.pk, reason=form.cleaned_data["reason"], actor=request.user)
            except ApplicationError as exc:
                form.add_error("reason" if exc.extra.get("field") == "reason" else None, str(exc))
            else:
                done = _("Claim accepted: the order is attributed to the claimant.")
                if service is claim_reject:
                    done = _("Claim rejected.")
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[claim.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Decide the claim for order %(order)s") % {"order": claim.vtex_order_id},
            "claim": claim,
            "why": finding_text(claim),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/claims/claim/decide.html", context, status=400 if form.errors else 200)

    def evidence_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        claim = self._claim_or_404(request, pk)
        if not self.has_view_permission(request, claim) or not claim.evidence:
            raise Http404
        audit_record(
            action="claim.evidence_viewed",
            target=claim,
            actor=request.user,
            brand_id=claim.brand_id,
            after={"claim": claim.pk},
        )
        extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
            claim.evidence_content_type, "bin"
        )
        return private_file_response(claim.evidence, download_name=f"claim-{claim.pk}.{extension}")
