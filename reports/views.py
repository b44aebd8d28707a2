"""Back-office views of the reports context. They are mounted inside the admin site
(core.admin_site and reports.admin), so staff + verified 2FA are checked before they run."""

from types import SimpleNamespace
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.scoping import brand_ids_for_user
from core.errors import ApplicationError
from core.storage import private_file_response, private_storage
from reports.charts import trend_chart
from reports.exports import export_download_resolve
from reports.selectors import PERIODS, dashboard_brand_pick, dashboard_build, live_panel


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """What the admin index adds: the dashboard of the brand picked (or the first visible)."""
    user = request.user
    if not getattr(user, "is_staff", False):
        return {}
    brand = dashboard_brand_pick(user=user, brand_id=request.GET.get("brand"))
    if brand is None:
        return {}
    data = dashboard_build(user=user, brand=brand, period_key=request.GET.get("period"))
    return {
        "dashboard": data,
        "dashboard_chart": trend_chart(data.series, currency=brand.currency),
        "dashboard_periods": list(PERIODS),
        "live": live_panel(brand=brand),
    }


def live_panel_view(request: HttpRequest) -> HttpResponse:
    """The "last 60 minutes" panel: a partial for htmx, the whole admin page without it."""
    brand = dashboard_brand_pick(user=request.user, brand_id=request.GET.get("brand"))
    if brand is None:
        raise Http404
    context = {"live": live_panel(brand=brand), "dashboard": {"brand": brand}}
    if getattr(request, "htmx", False):
        return TemplateResponse(request, "reports/admin/live_panel.html", context)
    return TemplateResponse(request, "reports/admin/live_page.html", {**context, "title": _("Last 60 minutes")})


def export_download(request: HttpRequest, token: str) -> Any:
    try:
        job = export_download_resolve(token=token, user=request.user)
    except ApplicationError as exc:
        return TemplateResponse(
            request, "reports/admin/download_refused.html", {"message": exc.message}, status=exc.status_code
        )
    allowed = brand_ids_for_user(request.user)
    if job.brand_id is not None and allowed is not None and job.brand_id not in allowed:
        raise Http404
    audit_record(
        action="export.downloaded",
        target=job,
        actor=request.user,
        brand_id=job.brand_id,
        after={"label": job.label, "format": job.format, "rows": job.progress_total},
    )
    return private_file_response(
        SimpleNamespace(storage=private_storage(), name=job.file_name),
        download_name=job.file_name.rsplit("/", 1)[-1],
    )
