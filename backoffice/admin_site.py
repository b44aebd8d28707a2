import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, get_script_prefix, path, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from backoffice.navigation import group_by_slug, work_groups
from backoffice.today import today_queues
from core.admin_exports import EXPORT_ACTIONS
from core.admin_money import with_money
from core.admin_rows import with_quick_rows
from core.health import health_report
from reports.views import dashboard_context, export_download, live_panel_view

#: Work lists kept per process (least recently used dropped first): one per person and language.
NAV_CACHE_SIZE = 512
_nav_cache: OrderedDict[Hashable, list[dict[str, Any]]] = OrderedDict()
_nav_lock = threading.Lock()


class MGMAdminSite(admin.AdminSite):
    """The back office. Reaching it takes an active staff account *and* a verified second
    factor; signing in goes through allauth (one login page, one rate limiter)."""

    site_header = _("MGM back office")
    site_title = _("MGM")
    index_title = _("Back office")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(super().has_permission(request) and getattr(user, "is_verified", lambda: False)())

    def login(self, request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated:
            if request.user.is_active and request.user.is_staff:
                return HttpResponseRedirect(f"{reverse('two_factor')}?{urlencode({'next': next_url})}")
            # Signed in, but not staff: the back office is not for them.
            return redirect("home")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """The back office's first page is the dashboard of the reports context."""
        context = dashboard_context(request)
        context["today"] = today_queues(user=request.user)
        context["may_run_jobs"] = request.user.has_perm("backoffice.view_operatorjob")
        if getattr(request.user, "is_superuser", False):
            # The platform's health spans every brand: superusers only (core.health).
            report = health_report()
            context |= {"health": report, "health_taken_at": datetime.fromtimestamp(report.taken_at, tz=UTC)}
        return super().index(request, {**context, **(extra_context or {})})

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """The index and the sidebar list the work, not the apps (backoffice.navigation); one
        app's own page (/admin/<app>/) still lists that app.

        Built once per request (the index asks for it twice: its content and `each_context`), and
        once per process for the same person, permissions, language and script prefix: each
        build asks every registered admin for the person's permissions (~200 checks and ~100
        URL reversals, about a third of a list page's CPU). A change of permissions changes the
        key, so it shows on the next page."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        built = getattr(request, "_mgm_app_list", None)
        if built is None:
            key = self._nav_key(request)
            with _nav_lock:
                groups = _nav_cache.get(key)
                if groups is not None:
                    _nav_cache.move_to_end(key)
            if groups is None:
                groups = work_groups(
                    super().get_app_list(request),
                    superuser=bool(getattr(request.user, "is_superuser", False)),
                    group_url=lambda slug: reverse("admin:work_group", args=[slug], current_app=self.name),
                )
                with _nav_lock:
                    _nav_cache[key] = groups
                    while len(_nav_cache) > NAV_CACHE_SIZE:
                        _nav_cache.popitem(last=False)
            # Each request gets its own dicts: nothing a page does to them reaches the next one.
            built = [{**group, "models": [dict(model) for model in group["models"]]} for group in groups]
            request._mgm_app_list = built  # type: ignore[attr-defined]
        return built

    def _nav_key(self, request: HttpRequest) -> Hashable:
        """Everything the work list depends on: the admins decide from the person's permissions
        and flags (the ones that override Django's checks, in brands.admin_access and
        backoffice.admin, ask the superuser flag or permissions, nothing of the request), the
        names are sorted in the page's language and the URLs carry the script prefix."""
        user: Any = request.user
        return (
            self.name,
            user.pk,
            bool(user.is_superuser),
            bool(user.is_staff),
            bool(user.is_active),
            frozenset(user.get_all_permissions()),
            translation.get_language(),
            get_script_prefix(),
        )

    def work_group_view(self, request: HttpRequest, slug: str) -> HttpResponse:
        """One group of work on its own page, like an app's page."""
        group = group_by_slug(slug)
        app_list = [app for app in self.get_app_list(request) if app["app_label"] == f"work-{slug}"]
        if group is None or not app_list:
            raise Http404
        context = {
            **self.each_context(request),
            "title": group.name,
            "subtitle": None,
            "app_list": app_list,
            "app_label": f"work-{slug}",
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path("work/<slug:slug>/", self.admin_view(self.work_group_view), name="work_group"),
            path("reports/live/", self.admin_view(live_panel_view), name="reports_live"),
            path("reports/download/<str:token>/", self.admin_view(export_download), name="reports_download"),
            *super().get_urls(),
        ]

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Every admin shows and takes money in major units (core.admin_money), lists its rows
        the cheaper way (core.admin_rows: 50 a page unless it chooses, checkboxes written
        directly), and every list that offers an export offers it as CSV, XLSX and JSON."""
        models = model_or_iterable if isinstance(model_or_iterable, list | tuple) else [model_or_iterable]
        for model in models:
            super().register(model, with_money(with_quick_rows(admin_class or admin.ModelAdmin), model), **options)
            model_admin = self._registry.get(model)
            actions = list(getattr(model_admin, "actions", None) or [])
            if model_admin is not None and any(a in EXPORT_ACTIONS for a in actions):
                model_admin.actions = actions + [a for a in EXPORT_ACTIONS if a not in actions]
