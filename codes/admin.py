from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.admin import SimpleHistoryAdmin

from brands.admin_mixins import BrandScopedAdminMixin
from campaigns.models import Campaign, CampaignAssignment
from codes.forms import CodeAddForm, CodeChangeForm
from codes.models import Code
from codes.services.archiving import code_archive, code_unarchive
from codes.services.code_settings import code_update_settings
from codes.services.issuing import code_create, codes_issue_for_influencer
from codes.services.sync import code_sync_request
from codes.tasks import code_usage_refresh_task
from core.admin_actions import run_each
from core.admin_exports import EXPORT_ACTIONS, export_csv, export_xlsx
from core.errors import ApplicationError


@admin.register(Code)
class CodeAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = [
        "text",
        "influencer",
        "campaign",
        "variant",
        "status",
        "sync_status",
        "sync_attempts",
        "short_error",
        "last_synced_at",
        "usage_count",
    ]
    list_filter = ["brand", "campaign", "status", "sync_status", "vtex_state", "origin", "variant__key"]
    search_fields = ["text", "influencer__display_name", "influencer__handle", "influencer__user__email"]
    list_select_related = ["influencer", "campaign", "campaign__brand", "variant", "brand"]
    raw_id_fields = ["influencer"]
    actions = ["sync_again", "refresh_usage", "archive", "unarchive", export_csv, export_xlsx]
    export_fields = [
        "id",
        "brand__slug",
        "text",
        "campaign__name",
        "influencer__display_name",
        "variant__key",
        "status",
        "discount_percent",
        "max_usage",
        "sync_status",
        "sync_attempts",
        "last_synced_at",
        "last_sync_error",
        "usage_count",
    ]
    change_readonly = [
        "text",
        "brand",
        "campaign",
        "influencer",
        "variant",
        "origin",
        "status",
        "status_reason",
        "status_changed_at",
        "manually_archived",
        "vtex_state",
        "sync_status",
        "sync_attempts",
        "next_sync_at",
        "last_sync_attempt_at",
        "last_synced_at",
        "last_sync_error",
        "usage_count",
        "usage_checked_at",
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # VTEX coupons cannot be deleted either; archive instead

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = CodeChangeForm if obj is not None else CodeAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["campaign", "influencer", "text"]
        return [*self.change_readonly[:10], *CodeChangeForm.Meta.fields, *self.change_readonly[10:]]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else list(self.change_readonly)

    @admin.display(description=_("last sync error"))
    def short_error(self, obj: Code) -> str:
        return Truncator(obj.last_sync_error).chars(80)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            self.check_brand_allowed(request, obj)
            code_update_settings(
                code=obj,
                discount_percent=form.cleaned_data["discount_percent"],
                max_usage=form.cleaned_data["max_usage"],
                max_items_per_client=form.cleaned_data["max_items_per_client"],
                expiration_interval_per_use=form.cleaned_data["expiration_interval_per_use"],
                actor=request.user,
            )
            return
        campaign = form.cleaned_data["campaign"]
        self.check_brand_allowed(request, campaign)
        code = code_create(
            campaign=campaign,
            influencer=form.cleaned_data["influencer"],
            text=form.cleaned_data.get("text") or None,
            actor=request.user,
        )
        obj.pk = code.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # no inlines or many-to-many; the service saved everything

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        obj = Code.objects.get(pk=obj.pk)
        return super().log_addition(request, obj, message)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> HttpResponse:
        return super().response_add(request, Code.objects.get(pk=obj.pk), post_url_continue)

    def _each(self, request: HttpRequest, queryset: QuerySet[Code], call: Any, singular: str, plural: str) -> None:
        run_each(self, request, queryset.select_related("campaign", "brand"), call, singular=singular, plural=plural)

    @admin.action(description=_("Sync again with VTEX"), permissions=["change"])
    def sync_again(self, request: HttpRequest, queryset: QuerySet[Code]) -> None:
        self._each(
            request,
            queryset,
            lambda c: code_sync_request(code=c, actor=request.user),
            gettext_noop("%(count)d code queued for sync with VTEX."),
            gettext_noop("%(count)d codes queued for sync with VTEX."),
        )

    @admin.action(description=_("Refresh uses from VTEX"), permissions=["view"])
    def refresh_usage(self, request: HttpRequest, queryset: QuerySet[Code]) -> None:
        self._each(
            request,
            queryset,
            lambda c: code_usage_refresh_task.delay(code_id=c.pk),
            gettext_noop("Usage refresh queued for %(count)d code."),
            gettext_noop("Usage refresh queued for %(count)d codes."),
        )

    @admin.action(description=_("Archive (stays archived until brought back)"), permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Code]) -> None:
        self._each(
            request,
            queryset,
            lambda c: code_archive(code=c, actor=request.user),
            gettext_noop("%(count)d code archived."),
            gettext_noop("%(count)d codes archived."),
        )

    @admin.action(description=_("Bring back (if campaign and influencer allow)"), permissions=["change"])
    def unarchive(self, request: HttpRequest, queryset: QuerySet[Code]) -> None:
        self._each(
            request,
            queryset,
            lambda c: code_unarchive(code=c, actor=request.user),
            gettext_noop("%(count)d code brought back."),
            gettext_noop("%(count)d codes brought back."),
        )


# --- Actions offered on the admins of lower floors -------------------------------------------
# Campaigns and assignments sit below codes, so their admins cannot import codes' services;
# codes adds its actions to them here. Autodiscovery imports the admin modules in
# INSTALLED_APPS order, campaigns and affiliates before codes, so both are registered by now.


@admin.action(description=_("Issue codes for every participant"), permissions=["change"])
def issue_codes(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
    """On the campaign list: a code in the campaign for each of its active participants."""

    def issue(campaign: Campaign) -> None:
        for assignment in campaign.assignments.filter(is_active=True).select_related("influencer"):
            codes_issue_for_influencer(
                brand=campaign.brand, influencer=assignment.influencer, campaigns=[campaign], actor=request.user
            )

    run_each(
        modeladmin,
        request,
        queryset.select_related("brand"),
        issue,
        singular=gettext_noop("Codes issued for %(count)d campaign."),
        plural=gettext_noop("Codes issued for %(count)d campaigns."),
    )


@admin.action(description=_("Issue their codes"), permissions=["change"])
def issue_participant_codes(modeladmin: Any, request: HttpRequest, queryset: QuerySet[CampaignAssignment]) -> None:
    """On the assignment list: each selected active participant's code in their campaign."""
    items = list(queryset.filter(is_active=True).select_related("campaign__brand", "influencer"))
    run_each(
        modeladmin,
        request,
        items,
        lambda a: codes_issue_for_influencer(
            brand=a.campaign.brand, influencer=a.influencer, campaigns=[a.campaign], actor=request.user
        ),
        singular=gettext_noop("Codes issued for %(count)d participant."),
        plural=gettext_noop("Codes issued for %(count)d participants."),
    )


def _offer(model: type[Any], action: Any) -> None:
    """Add `action` to the registered admin of `model`, before its export actions."""
    model_admin = admin.site.get_model_admin(model)
    actions = list(model_admin.actions or [])
    if action in actions:
        return
    exports = [i for i, a in enumerate(actions) if a in EXPORT_ACTIONS]
    actions.insert(exports[0] if exports else len(actions), action)
    model_admin.actions = actions


_offer(Campaign, issue_codes)
_offer(CampaignAssignment, issue_participant_codes)
