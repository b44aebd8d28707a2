from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from brands.admin_mixins import BrandScopedAdminMixin
from core.admin_actions import ReadOnlyAdminMixin, run_each
from core.admin_exports import export_csv, export_xlsx
from core.admin_money import money_display
from core.errors import ApplicationError
from tracking.fraud import fraud_flag_resolve
from tracking.fraud_holds import held_cents_by_order
from tracking.link_numbers import LinkNumbers, link_numbers
from tracking.models import (
    AttributionPolicy,
    Click,
    Conversion,
    CustomerBinding,
    FraudFlag,
    InfluencerRisk,
    Link,
    ManualAttribution,
)
from tracking.selectors import link_public_url
from tracking.services import attribution_policy_save, link_create, link_deactivate, link_qr_svg, link_update


class _ReadOnly(ReadOnlyAdminMixin, BrandScopedAdminMixin):  # type: ignore[misc]
    """Rows the tracking services write (clicks, conversions, bindings, risk, flags): viewed,
    scoped to the staff member's brands, never edited here."""


class LinkForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Link
        fields = ["campaign", "influencer", "destination_url", "label", "slug"]

    slug = forms.SlugField(required=False, max_length=40, help_text=_("Leave empty for a generated one."))


#: The admin's list shows each link's last 30 days (brand time zone).
LIST_DAYS = 30


def _days_back(brand: Any, days: int) -> tuple[date, date]:
    end = timezone.localtime(timezone.now(), brand.tz).date()
    return end - timedelta(days=days - 1), end


class LinkChangeList(ChangeList):
    """Reads the numbers of the page's links in one grouped query per brand (link rollups,
    through `tracking.link_numbers`), not one per row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        by_brand: dict[int, list[Link]] = {}
        for link in self.result_list:
            by_brand.setdefault(link.brand_id, []).append(link)
        for links in by_brand.values():
            start, end = _days_back(links[0].brand, LIST_DAYS)
            numbers = link_numbers(link_ids=[link.pk for link in links], start=start, end=end)
            for link in links:
                link.numbers = numbers[link.pk]  # type: ignore[attr-defined]


@admin.register(Link)
class LinkAdmin(BrandScopedAdminMixin):
    form = LinkForm
    list_display = [
        "slug",
        "influencer",
        "campaign",
        "label",
        "destination_url",
        "origin",
        "is_active",
        "clicks_30d",
        "orders_30d",
        "revenue_30d",
        "commission_30d",
        "conversion_30d",
    ]
    list_filter = ["is_active", "origin", "brand", "campaign"]
    search_fields = ["slug", "label", "destination_url", "influencer__display_name"]
    list_select_related = ["influencer", "campaign", "campaign__brand", "brand"]
    autocomplete_fields = ["campaign", "influencer"]
    readonly_fields = ["qr_code", "numbers", "origin", "is_active"]
    actions = [export_csv, export_xlsx, "deactivate"]
    export_fields = [
        "id",
        "slug",
        "brand__slug",
        "campaign__slug",
        "influencer__display_name",
        "destination_url",
        "label",
        "origin",
        "is_active",
    ]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LinkChangeList

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["campaign", "influencer", "destination_url", "label", "slug"]
        return ["destination_url", "label", "origin", "is_active", "numbers", "qr_code"]

    def _numbers(self, obj: Link) -> LinkNumbers:
        return getattr(obj, "numbers", None) or LinkNumbers()

    @admin.display(description=_("Clicks (30 days)"))
    def clicks_30d(self, obj: Link) -> int:
        return self._numbers(obj).clicks

    @admin.display(description=_("Orders (30 days)"))
    def orders_30d(self, obj: Link) -> int:
        return self._numbers(obj).orders

    @admin.display(description=_("Sales (30 days)"))
    def revenue_30d(self, obj: Link) -> str:
        return money_display(self._numbers(obj).revenue_cents, obj.brand.currency)

    @admin.display(description=_("Commission (30 days)"))
    def commission_30d(self, obj: Link) -> str:
        return money_display(self._numbers(obj).commission_cents, obj.brand.currency)

    @admin.display(description=_("Conversion (30 days)"))
    def conversion_30d(self, obj: Link) -> str:
        rate = self._numbers(obj).conversion_percent
        return "—" if rate is None else f"{number_format(rate, 1)} %"

    @admin.display(description=_("Numbers"))
    def numbers(self, obj: Link) -> str:
        """The last 7, 30 and 90 days, from the link rollups."""
        rows = []
        for days in (7, 30, 90):
            start, end = _days_back(obj.brand, days)
            n = link_numbers(link_ids=[obj.pk], start=start, end=end)[obj.pk]
            rate = n.conversion_percent
            rows.append(
                format_html(
                    "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    _("Last %(days)d days") % {"days": days},
                    n.clicks,
                    n.orders,
                    money_display(n.revenue_cents, obj.brand.currency),
                    money_display(n.commission_cents, obj.brand.currency),
                    "—" if rate is None else f"{number_format(rate, 1)} %",
                )
            )
        head = format_html(
            "<tr><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("Clicks"),
            _("Orders"),
            _("Sales"),
            _("Commission"),
            _("Conversion"),
        )
        return format_html(
            '<table class="link-numbers" data-testid="admin-link-numbers"><thead>{}</thead><tbody>{}</tbody></table>',
            head,
            mark_safe("".join(rows)),  # noqa: S308  (each row built by format_html above)
        )

    @admin.display(description=_("QR code"))
    def qr_code(self, obj: Link) -> str:
        url = link_public_url(slug=obj.slug)
        return format_html("<div>{}</div><code>{}</code>", mark_safe(link_qr_svg(url=url)), url)  # noqa: S308

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            if change:
                link_update(link=obj, destination_url=obj.destination_url, label=obj.label, actor=request.user)
            else:
                self.check_brand_allowed(request, obj.campaign)
                created = link_create(
                    campaign=obj.campaign,
                    influencer=obj.influencer,
                    destination_url=obj.destination_url,
                    label=obj.label,
                    slug=form.cleaned_data.get("slug") or "",
                    actor=request.user,
                )
                obj.pk, obj.slug = created.pk, created.slug
        except ApplicationError as exc:
            messages.error(request, str(exc))
            raise

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # clicks point at links: deactivate instead

    @admin.action(description=_("Deactivate selected links"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Link]) -> None:
        run_each(
            self,
            request,
            queryset,
            lambda link: link_deactivate(link=link, actor=request.user),
            singular=gettext_noop("%(count)d link deactivated."),
            plural=gettext_noop("%(count)d links deactivated."),
        )


@admin.register(AttributionPolicy)
class AttributionPolicyAdmin(BrandScopedAdminMixin):
    list_display = ["campaign", "precedence", "click_model", "window_days", "cross_device", "binding_days"]
    list_filter = ["precedence", "click_model", "cross_device"]
    search_fields = ["campaign__name"]
    autocomplete_fields = ["campaign"]
    list_select_related = ["campaign__brand"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.check_brand_allowed(request, obj)
        attribution_policy_save(policy=obj, actor=request.user)


@admin.register(Click)
class ClickAdmin(_ReadOnly):
    list_display = ["click_id", "occurred_at", "influencer", "campaign", "is_valid", "screen_reason", "referrer_host"]
    list_filter = ["is_valid", "screen_reason", "brand", "campaign"]
    search_fields = ["click_id", "visitor_id", "link__slug", "influencer__display_name"]
    list_select_related = ["influencer", "campaign", "campaign__brand"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    actions = [export_csv, export_xlsx]
    export_fields = [
        "click_id",
        "occurred_at",
        "link__slug",
        "influencer_id",
        "campaign_id",
        "is_valid",
        "screen_reason",
    ]


@admin.register(Conversion)
class ConversionAdmin(_ReadOnly):
    list_display = ["order_ref", "brand", "source", "visitor_id", "click_id", "occurred_at"]
    list_filter = ["source", "brand"]
    search_fields = ["order_ref", "visitor_id", "click_id"]
    actions = [export_csv, export_xlsx]


@admin.register(CustomerBinding)
class CustomerBindingAdmin(_ReadOnly):
    list_display = ["influencer", "campaign", "order_ref", "bound_at", "expires_at"]
    list_filter = ["brand", "campaign"]
    search_fields = ["order_ref", "influencer__display_name"]
    list_select_related = ["influencer", "campaign", "campaign__brand"]
    actions = [export_csv, export_xlsx]


@admin.register(ManualAttribution)
class ManualAttributionAdmin(ReadOnlyAdminMixin, BrandScopedAdminMixin):
    """Orders a person attributed by hand (accepted missing-order claims), with the reason."""

    list_display = ["order_ref", "influencer", "campaign", "source_ref", "decided_by", "created_at"]
    list_filter = ["brand", "campaign"]
    search_fields = ["order_ref", "influencer__display_name", "reason"]
    list_select_related = ["influencer", "campaign", "campaign__brand", "decided_by"]
    date_hierarchy = "created_at"
    actions = [export_csv, export_xlsx]


@admin.register(InfluencerRisk)
class InfluencerRiskAdmin(_ReadOnly):
    list_display = ["influencer", "brand", "score", "open_flags", "updated_at"]
    list_filter = ["brand"]
    search_fields = ["influencer__display_name"]
    list_select_related = ["influencer", "brand"]
    actions = [export_csv, export_xlsx]


def _held_commissions(flags: list[FraudFlag]) -> dict[tuple[int, str], int]:
    """Commission cents on fraud hold per (brand, order) of these flags (asked of the commissions
    context through `tracking.fraud_holds`)."""
    orders = [f for f in flags if f.subject == FraudFlag.Subject.ORDER]
    return held_cents_by_order(brand_ids={f.brand_id for f in orders}, order_refs={f.subject_ref for f in orders})


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (FraudFlag.Status.RELEASED, _("Release: pay the commission")),
            (FraudFlag.Status.REJECTED, _("Reject: reverse the commission")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), min_length=5)


@admin.register(FraudFlag)
class FraudFlagAdmin(_ReadOnly):
    """The review queue: open flags grouped per influencer with their evidence; a manager
    releases or rejects with a reason (audited)."""

    list_display = ["influencer", "rule", "subject_ref", "severity", "status", "created_at", "resolved_by"]
    list_filter = ["status", "rule", "subject", "brand"]
    search_fields = ["subject_ref", "influencer__display_name"]
    list_select_related = ["influencer", "resolved_by"]
    readonly_fields = ["evidence"]
    actions = [export_csv, export_xlsx, "resolve"]
    export_fields = ["id", "brand__slug", "influencer__display_name", "rule", "subject_ref", "status", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("tracking.change_fraudflag"))

    def get_urls(self) -> list[Any]:
        return [
            path("review/", self.admin_site.admin_view(self.review_view), name="tracking_fraudflag_review"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        extra = {"review_url": reverse("admin:tracking_fraudflag_review"), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def review_view(self, request: HttpRequest) -> HttpResponse:
        open_flags = self.get_queryset(request).filter(status=FraudFlag.Status.OPEN)
        form = ResolveForm(request.POST or None)
        if request.method == "POST":
            if not self.has_change_permission(request):
                return HttpResponse(status=403)
            ids = [int(i) for i in request.POST.getlist("flag") if i.isdigit()]
            if form.is_valid() and ids:
                run_each(
                    self,
                    request,
                    open_flags.filter(pk__in=ids),
                    lambda flag: fraud_flag_resolve(
                        flag_id=flag.pk,
                        decision=form.cleaned_data["decision"],
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                    ),
                    singular=gettext_noop("%(count)d flag resolved."),
                    plural=gettext_noop("%(count)d flags resolved."),
                )
                return redirect("admin:tracking_fraudflag_review")
            if not ids:
                messages.error(request, _("Select at least one flag."))
        groups = (
            open_flags.values("influencer_id", "influencer__display_name", "brand__name")
            .annotate(n=Count("id"), top=Max("severity"))
            .order_by("-top", "-n")
        )
        by_influencer: dict[int, list[FraudFlag]] = {}
        flags = list(open_flags.select_related("brand").order_by("-severity", "-created_at"))
        held = _held_commissions(flags)
        for flag in flags:
            cents = held.get((flag.brand_id, flag.subject_ref)) if flag.subject == FraudFlag.Subject.ORDER else None
            flag.held_label = money_display(cents, flag.brand.currency) if cents is not None else ""  # type: ignore[attr-defined]
            by_influencer.setdefault(flag.influencer_id, []).append(flag)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Fraud review queue"),
            "groups": [{**g, "flags": by_influencer.get(g["influencer_id"], [])} for g in groups],
            "form": form,
            "opts": self.model._meta,
            "can_resolve": self.has_change_permission(request),
        }
        return TemplateResponse(request, "tracking/admin/review_queue.html", context)

    @admin.action(description=_("Release or reject selected flags…"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[FraudFlag]) -> Any:
        return redirect("admin:tracking_fraudflag_review")
