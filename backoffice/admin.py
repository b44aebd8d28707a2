"""The back office's own admins: the audit log (read-only, brand-scoped: audit sits below
brands, so its admin lives here) and operator jobs (run a job, watch its progress)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from audit.models import AuditEvent, AuditExport
from backoffice.models import KIND_PERMISSIONS, OperatorJob
from backoffice.services import ROLLUPS_MAX_DAYS, operator_job_start
from brands.admin_mixins import BrandScopedAdminMixin
from brands.models import Brand
from brands.scoping import brand_ids_for_user, scope_queryset
from core.admin_actions import ReadOnlyAdminMixin
from core.admin_exports import export_csv, export_xlsx
from core.errors import ApplicationError
from orders.models import HookRegistration


@admin.register(AuditEvent)
class AuditEventAdmin(BrandScopedAdminMixin):
    """Read-only: the audit log is appended to by services, never edited by people."""

    list_display = ["created_at", "actor_repr", "action", "target_type", "target_repr", "brand", "ip"]
    list_filter = ["action", "target_type", "brand", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_repr", "action", "target_repr", "target_id", "request_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["brand"]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "id",
        "created_at",
        "actor_repr",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "brand_id",
        "before",
        "after",
        "ip",
        "request_id",
        "hash",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Periodic exports of the log (superusers only: the files hold every brand's events)."""

    list_display = ["created_at", "first_seq", "head_seq", "head_hash", "events", "file_name"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


# --- Operator jobs --------------------------------------------------------------------------


class OperatorJobForm(forms.Form):
    """One form for every job; which fields a job needs is checked in clean()."""

    kind = forms.ChoiceField(label=gettext_lazy("Job"))
    brand = forms.ModelChoiceField(queryset=Brand.objects.none(), label=gettext_lazy("Brand"), required=False)
    day = forms.DateField(
        label=gettext_lazy("Day to reconcile"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_from = forms.DateField(
        label=gettext_lazy("Rebuild from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Rebuild until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    url = forms.URLField(
        label=gettext_lazy("Hook URL"),
        required=False,
        help_text=gettext_lazy("Leave empty to use this platform's public hook address."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = [(k, label) for k, label in OperatorJob.Kind.choices if user.has_perm(KIND_PERMISSIONS[k])]
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]
        self.fields["brand"].queryset = scope_queryset(  # type: ignore[attr-defined]
            Brand.objects.filter(is_active=True).order_by("name"), brand_ids_for_user(user), brand_field="pk"
        )
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, brand = data.get("kind"), data.get("brand")
        if kind and kind != OperatorJob.Kind.LEDGER_VERIFY and brand is None:
            self.add_error("brand", _("Choose a brand."))
        if kind == OperatorJob.Kind.LEDGER_VERIFY and brand is None and not self.user.is_superuser:
            # The whole ledger spans every brand: superusers only.
            self.add_error("brand", _("Choose a brand."))
        if kind == OperatorJob.Kind.RECONCILE_DAY and not data.get("day"):
            self.add_error("day", _("Choose the day."))
        if kind == OperatorJob.Kind.ROLLUPS_REBUILD:
            start, end = data.get("date_from"), data.get("date_to")
            if not start or not end:
                self.add_error("date_from", _("Choose the first and the last day."))
            elif start > end:
                self.add_error("date_to", _("The last day comes after the first."))
            elif (end - start).days >= ROLLUPS_MAX_DAYS:
                self.add_error("date_to", _("At most a year at a time."))
        return data

    def params(self) -> dict[str, str]:
        data, kind = self.cleaned_data, self.cleaned_data["kind"]
        if kind == OperatorJob.Kind.RECONCILE_DAY:
            return {"day": data["day"].isoformat()}
        if kind == OperatorJob.Kind.ROLLUPS_REBUILD:
            return {"date_from": data["date_from"].isoformat(), "date_to": data["date_to"].isoformat()}
        if kind == OperatorJob.Kind.HOOK_REGISTER and data.get("url"):
            return {"url": data["url"]}
        return {}


def _may_run_any(user: Any) -> bool:
    return any(user.has_perm(p) for p in set(KIND_PERMISSIONS.values()))


@admin.register(OperatorJob)
class OperatorJobAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    """Jobs people started, newest first; "Run a job" starts one, its page shows progress."""

    change_list_template = "backoffice/operator_job_list.html"
    list_display = ["__str__", "brand", "status", "progress", "requested_by", "created_at", "finished_at"]
    list_filter = ["kind", "status", "brand"]
    list_select_related = ["brand", "requested_by"]
    list_display_links = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_run_any(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_run_any(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OperatorJob]:
        qs = super().get_queryset(request)
        if brand_ids_for_user(request.user) is not None:
            # A ledger check over every brand has no brand: only its starter sees it.
            return qs | OperatorJob.objects.filter(brand__isnull=True, requested_by_id=request.user.pk)
        return qs

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, obj: OperatorJob) -> str:
        return format_html(
            '<a href="{}">{} %</a>', reverse("admin:backoffice_operatorjob_progress", args=[obj.pk]), obj.percent
        )

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("run/", wrap(self.run_view), name="backoffice_operatorjob_run"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="backoffice_operatorjob_progress"),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        if not _may_run_any(request.user):
            raise PermissionDenied
        form = OperatorJobForm(request.POST or None, user=request.user, initial=request.GET.dict() or None)
        if request.method == "POST" and form.is_valid():
            kind = form.cleaned_data["kind"]
            if not request.user.has_perm(KIND_PERMISSIONS[kind]):
                raise PermissionDenied
            try:
                job = operator_job_start(
                    kind=kind, actor=request.user, brand=form.cleaned_data.get("brand"), params=form.params()
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            else:
                return HttpResponseRedirect(reverse("admin:backoffice_operatorjob_progress", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Run a job"),
            "form": form,
            "registrations": HookRegistration.objects.filter(
                brand__in=form.fields["brand"].queryset  # type: ignore[attr-defined]
            ).select_related("brand"),
        }
        return TemplateResponse(
            request, "backoffice/operator_job_run.html", context, status=400 if form.errors else 200
        )

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(self.get_queryset(request).select_related("brand"), pk=pk)
        lines = [gettext(line["text"]) % line.get("args", {}) for line in job.result or []]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(job),
            "job": job,
            "lines": lines,
        }
        template = "backoffice/operator_job.html"
        if getattr(request, "htmx", False):
            template += "#progress"
        return TemplateResponse(request, template, context)
