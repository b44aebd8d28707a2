"""Back office of the reports context: the report builder (preview as table + SVG chart, save,
share, schedule, export), saved and scheduled reports, deliveries, A/B results and export jobs
with their progress. Views are `get_urls` views that validate, call one service/selector and
render."""

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from brands.admin_mixins import BrandScopedAdminMixin
from brands.scoping import brand_ids_for_user, scope_queryset
from campaigns.models import Campaign
from core.errors import ApplicationError
from core.exports import export_response
from reports.ab import ab_results
from reports.builder import METRICS, ReportSpec, report_run, spec_from_input
from reports.charts import bar_chart
from reports.exports import export_download_token, export_job_create
from reports.forms import ReportBuilderForm, ScheduleForm, initial_from_spec
from reports.models import ExportJob, ReportDelivery, SavedReport, ScheduledReport
from reports.selectors import dashboard_brands, export_job_list, saved_report_get, saved_report_list
from reports.services import saved_report_save, scheduled_report_create
from reports.templatetags.reports_tags import metric_value

SYNC_REPORT_MAX_ROWS = 5000


def _campaigns_for(user: Any) -> list[Any]:
    return list(
        scope_queryset(
            Campaign.objects.filter(is_template=False).select_related("brand"),
            brand_ids_for_user(user),
            brand_field="brand",
        ).order_by("brand__name", "name")
    )


def _preview(spec: ReportSpec, *, currency: str) -> dict[str, Any]:
    result = report_run(spec=spec)
    chart = None
    if spec.dimensions and spec.metrics and result.rows:
        first_dim, first_metric = spec.dimensions[0], spec.metrics[0]
        kind = METRICS[first_metric].kind
        chart = bar_chart(
            labels=[row[first_dim] for row in result.rows],
            values=[row[first_metric] for row in result.rows],
            title=str(dict((k, label) for k, label, _kind in result.columns)[first_metric]),
            # Bars carry the value as the table shows it: money in major units, rates in percent.
            value_format=(lambda v: metric_value(v, kind, currency)) if kind in ("money", "rate") else None,
        )
    return {"result": result, "chart": chart}


def _export_response(request: HttpRequest, *, spec: ReportSpec, fmt: str, label: str, brand: Any) -> HttpResponseBase:
    """Small reports download at once; a report that reaches the row limit becomes an export
    job, which runs the spec without that limit (reports.exports.EXPORT_JOB_MAX_ROWS)."""

    result = report_run(spec=spec)
    if len(result.rows) >= SYNC_REPORT_MAX_ROWS or result.truncated:
        job = export_job_create(
            user=request.user,
            source=ExportJob.Source.REPORT,
            fmt=fmt,
            label=label,
            params={"brand_id": brand.pk, "spec": spec.as_json()},
            brand=brand,
        )
        return HttpResponseRedirect(reverse("admin:reports_exportjob_progress", args=[job.pk]))
    header, body = result.table(currency=brand.currency)
    audit_record(
        action="export.downloaded",
        actor=request.user,
        brand_id=brand.pk,
        after={"report": label, "format": fmt, "rows": len(body)},
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return export_response(fmt, f"report-{brand.slug}-{stamp}.{fmt}", header, body)


def _builder_initial(*, report: SavedReport | None, default_brand_id: int) -> dict[str, Any]:
    """What the builder shows first: the saved report's query, or the last 30 days by day."""
    if report is not None:
        return {**initial_from_spec(report.spec, report.brand_id), "name": report.name, "is_shared": report.is_shared}
    today = timezone.localdate()
    return {
        "brand": default_brand_id,
        "date_from": today - timedelta(days=29),
        "date_to": today,
        "dimensions": ["day"],
        "metrics": ["clicks", "orders", "revenue", "conversion_rate"],
        "attribution": "recorded",
        "descending": True,
        "limit": 500,
    }


@admin.register(SavedReport)
class SavedReportAdmin(BrandScopedAdminMixin):
    list_display = ["name", "brand", "owner", "is_shared", "updated_at", "open_link"]
    list_filter = ["is_shared", "brand"]
    list_select_related = ["brand", "owner"]
    search_fields = ["name"]
    readonly_fields = ["brand", "owner", "spec", "created_at", "updated_at"]
    fields = ["name", "is_shared", "brand", "owner", "spec", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SavedReport]:
        return saved_report_list(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports are created from the builder

    def has_change_permission(self, request: HttpRequest, obj: SavedReport | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.owner_id == request.user.pk or request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: SavedReport | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.owner_id == request.user.pk or request.user.is_superuser)

    @admin.display(description=gettext_lazy("Open"))
    def open_link(self, obj: SavedReport) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:reports_savedreport_preview", args=[obj.pk]), _("Open")
        )

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("builder/", wrap(self.builder_view), name="reports_savedreport_builder"),
            path("<int:pk>/preview/", wrap(self.builder_view), name="reports_savedreport_preview"),
            path("<int:pk>/schedule/", wrap(self.schedule_view), name="reports_savedreport_schedule"),
            path("ab/", wrap(self.ab_view), name="reports_ab"),
            *super().get_urls(),
        ]

    def builder_view(self, request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise Http404
        user = request.user
        report = saved_report_get(user=user, pk=pk) if pk is not None else None
        if pk is not None and report is None:
            raise Http404
        brands = dashboard_brands(user=user)
        if not brands:
            raise Http404
        data: Any = request.POST if request.method == "POST" else (request.GET if "metrics" in request.GET else None)
        initial = _builder_initial(report=report, default_brand_id=brands[0].pk)
        form = ReportBuilderForm(data, initial=initial, brands=brands, campaigns=_campaigns_for(user))
        if data is None:
            form = ReportBuilderForm(initial=initial, brands=brands, campaigns=_campaigns_for(user))
        context: dict[str, Any] = {}
        spec: ReportSpec | None = None
        if data is None:
            spec_input = initial if report is None else {**report.spec}
            brand_id = brands[0].pk if report is None else report.brand_id
        elif form.is_valid():
            spec_input = form.spec_data()
            brand_id = int(form.cleaned_data["brand"])
        else:
            spec_input, brand_id = None, None  # type: ignore[assignment]
        brand = next((b for b in brands if b.pk == brand_id), None)
        if spec_input is not None and brand is not None:
            try:
                spec = spec_from_input(data=spec_input, brand_id=brand.pk)
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
        if spec is not None and brand is not None:
            action = request.POST.get("action") if request.method == "POST" else request.GET.get("export")
            try:
                if action == "save":
                    saved = saved_report_save(
                        user=user,
                        brand=brand,
                        name=form.cleaned_data.get("name") or "",
                        spec_data=dict(spec_input or {}),
                        is_shared=bool(form.cleaned_data.get("is_shared")),
                        report=report if report is not None and report.owner_id == user.pk else None,
                    )
                    messages.success(request, _("Report “%(name)s” saved.") % {"name": saved.name})
                    return HttpResponseRedirect(reverse("admin:reports_savedreport_preview", args=[saved.pk]))
                if action in ("csv", "xlsx", "json"):
                    label = report.name if report else _("Report")
                    return _export_response(request, spec=spec, fmt=action, label=label, brand=brand)
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            context.update(_preview(spec, currency=brand.currency))
        context.update(
            self.admin_site.each_context(request),
            title=report.name if report else _("Report builder"),
            form=form,
            report=report,
            brand=brand,
            spec=spec,
            schedule_form=ScheduleForm() if report else None,
            opts=self.model._meta,
            query=request.GET.urlencode() if data is not None and request.method == "GET" else "",
        )
        return TemplateResponse(request, "reports/admin/builder.html", context)

    def schedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = saved_report_get(user=request.user, pk=pk)
        if report is None or request.method != "POST" or not request.user.has_perm("reports.add_scheduledreport"):
            raise Http404
        form = ScheduleForm(request.POST)
        if form.is_valid():
            try:
                scheduled_report_create(
                    user=request.user,
                    report=report,
                    fmt=form.cleaned_data["format"],
                    recipients=form.cleaned_data["recipients"],
                    cadence=form.cleaned_data["cadence"],
                    send_hour=form.cleaned_data["send_hour"],
                )
                messages.success(request, _("Scheduled. The first email goes out after the current period ends."))
            except ApplicationError as exc:
                messages.error(request, str(exc.message))
        else:
            messages.error(request, _("Check the schedule: %(errors)s") % {"errors": form.errors.as_text()})
        return HttpResponseRedirect(reverse("admin:reports_savedreport_preview", args=[report.pk]))

    def ab_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        campaigns = [c for c in _campaigns_for(request.user) if c.variants.exists()]
        campaign = next(
            (c for c in campaigns if str(c.pk) == request.GET.get("campaign")), campaigns[0] if campaigns else None
        )
        results = []
        today = timezone.localdate()
        date_from, date_to = today - timedelta(days=89), today
        if campaign is not None:
            today = timezone.localtime(timezone.now(), campaign.brand.tz).date()
            date_from = max(
                timezone.localtime(campaign.starts_at, campaign.brand.tz).date(), today - timedelta(days=365)
            )
            date_to = today
            results = ab_results(campaign=campaign, date_from=date_from, date_to=date_to)
        context = {
            **self.admin_site.each_context(request),
            "title": _("A/B results"),
            "campaigns": campaigns,
            "campaign": campaign,
            "results": results,
            "date_from": date_from,
            "date_to": date_to,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "reports/admin/ab.html", context)


@admin.register(ScheduledReport)
class ScheduledReportAdmin(BrandScopedAdminMixin):
    list_display = ["report", "cadence", "send_hour", "format", "is_active", "last_sent_period"]
    list_filter = ["cadence", "is_active"]
    list_select_related = ["report__brand"]
    fields = ["report", "format", "cadence", "send_hour", "recipients", "is_active", "last_sent_period"]
    readonly_fields = ["report", "format", "cadence", "send_hour", "recipients", "last_sent_period"]
    actions = ["deactivate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # from a saved report's page

    @admin.action(description=gettext_lazy("Stop sending"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ScheduledReport]) -> None:
        for schedule in queryset:
            ScheduledReport.objects.filter(pk=schedule.pk).update(is_active=False)
            audit_record(
                action="report.schedule_stopped", target=schedule, actor=request.user, brand_id=schedule.report.brand_id
            )


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(BrandScopedAdminMixin):
    list_display = ["schedule", "period", "status", "rows", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["schedule__report"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["label", "format", "status", "progress", "created_at", "download"]
    list_filter = ["status", "format"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExportJob]:
        return export_job_list(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    @admin.display(description=gettext_lazy("Progress"))
    def progress(self, obj: ExportJob) -> str:
        return f"{obj.percent} %"

    @admin.display(description=gettext_lazy("Download"))
    def download(self, obj: ExportJob) -> str:
        if obj.status != ExportJob.Status.DONE or (obj.expires_at and obj.expires_at < timezone.now()):
            return "—"
        url = reverse("admin:reports_download", args=[export_download_token(job=obj)])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/progress/", self.admin_site.admin_view(self.progress_view), name="reports_exportjob_progress"
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(export_job_list(user=request.user), pk=pk)
        download_url = ""
        if job.status == ExportJob.Status.DONE:
            download_url = reverse("admin:reports_download", args=[export_download_token(job=job)])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Export: %(label)s") % {"label": job.label},
            "job": job,
            "download_url": download_url,
            "opts": self.model._meta,
        }
        template = "reports/admin/export_progress.html"
        if getattr(request, "htmx", False):
            template += "#progress"
        return TemplateResponse(request, template, context)
