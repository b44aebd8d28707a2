"""The creatives library in the back office: managers upload a campaign's images, guidelines,
video links and captions (checked by creatives.uploads, written by creatives.services), see a
preview, archive and restore. Files are private: the admin serves them through its own views,
scoped to the staff member's brands."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat, truncatechars
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from brands.admin_mixins import BrandScopedAdminMixin
from core.admin_actions import run_each
from core.errors import ApplicationError
from core.storage import private_file_response
from creatives.files import thumbnail_response
from creatives.models import Creative
from creatives.services import creative_create, creative_set_active, creative_update
from creatives.uploads import (
    PLACEHOLDERS,
    CreativeInvalid,
    caption_clean,
    caption_fill,
    creative_image_inspect,
    creative_pdf_inspect,
    image_max_bytes,
    pdf_max_bytes,
    video_url_clean,
)


def _placeholders_help() -> str:
    return str(
        _("Placeholders filled for each influencer: %(list)s (their active code, their tracked link, the brand).")
        % {"list": ", ".join("{" + name + "}" for name in PLACEHOLDERS)}
    )


class CreativeAddForm(forms.ModelForm):  # type: ignore[type-arg]
    """What a manager fills in to add a piece. The content checks are creatives.uploads' (the
    service runs them again), so a refusal shows beside its field and nothing is stored."""

    upload = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("Images: JPEG, PNG or WebP. Brand guidelines: PDF."),
    )

    class Meta:
        model = Creative
        fields = ["campaign", "kind", "title", "notes", "upload", "video_url", "caption"]
        widgets = {"caption": forms.Textarea(attrs={"rows": 6}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["upload"].help_text = _(
            "Images: JPEG, PNG or WebP up to %(image)s. Brand guidelines: PDF up to %(pdf)s."
        ) % {"image": filesizeformat(image_max_bytes()), "pdf": filesizeformat(pdf_max_bytes())}
        self.fields["video_url"].help_text = _("Videos are links (https://): YouTube, TikTok, Instagram, a drive.")
        self.fields["caption"].help_text = _placeholders_help()
        if "campaign" in self.fields:
            queryset = self.fields["campaign"].queryset  # type: ignore[attr-defined]
            self.fields["campaign"].queryset = queryset.filter(is_template=False)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        upload = data.get("upload")
        try:
            if kind == Creative.Kind.IMAGE:
                if not upload:
                    raise CreativeInvalid(_("Choose the image to upload."), field="upload")
                creative_image_inspect(upload, field="upload")
            elif kind == Creative.Kind.GUIDELINES:
                if not upload:
                    raise CreativeInvalid(_("Choose the PDF to upload."), field="upload")
                creative_pdf_inspect(upload, field="upload")
            elif kind == Creative.Kind.VIDEO:
                data["video_url"] = video_url_clean(data.get("video_url") or "")
            elif kind == Creative.Kind.CAPTION:
                data["caption"] = caption_clean(data.get("caption") or "")
            if upload and kind in (Creative.Kind.VIDEO, Creative.Kind.CAPTION):
                raise CreativeInvalid(_("Only images and brand guidelines carry a file."), field="upload")
        except CreativeInvalid as exc:
            self.add_error(exc.extra["field"], str(exc))
        return data


class CreativeChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Creative
        fields = ["title", "notes", "video_url", "caption"]
        widgets = {"caption": forms.Textarea(attrs={"rows": 6}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "caption" in self.fields:
            self.fields["caption"].help_text = _placeholders_help()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            if self.instance.kind == Creative.Kind.VIDEO:
                data["video_url"] = video_url_clean(data.get("video_url") or "")
            elif self.instance.kind == Creative.Kind.CAPTION:
                data["caption"] = caption_clean(data.get("caption") or "")
        except CreativeInvalid as exc:
            self.add_error(exc.extra["field"], str(exc))
        return data


@admin.register(Creative)
class CreativeAdmin(BrandScopedAdminMixin):
    list_display = ["preview_small", "title", "kind", "campaign", "brand", "is_active", "size_display", "created_at"]
    list_display_links = ["preview_small", "title"]
    list_filter = ["kind", "is_active", "brand", "campaign"]
    search_fields = ["title", "notes", "caption", "original_name", "campaign__name"]
    list_select_related = ["campaign", "campaign__brand", "brand"]
    autocomplete_fields = ["campaign"]
    date_hierarchy = "created_at"
    actions = ["archive", "restore"]
    _INFO = ("kind", "campaign", "brand", "is_active", "preview", "file_facts", "created_by", "created_at")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = CreativeChangeForm if obj is not None else CreativeAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["campaign", "kind", "title", "notes", "upload", "video_url", "caption"]
        content = {Creative.Kind.VIDEO: ["video_url"], Creative.Kind.CAPTION: ["caption"]}.get(obj.kind, [])
        return ["title", "notes", *content, *self._INFO]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return list(self._INFO) if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive instead: the audit trail keeps pointing at the piece

    # --- saving through the services ---

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            fresh = Creative.objects.get(pk=obj.pk)
            creative_update(
                creative=fresh,
                title=data["title"],
                notes=data.get("notes") or "",
                video_url=data.get("video_url") or "",
                caption=data.get("caption") or "",
                actor=request.user,
            )
            return
        self.check_brand_allowed(request, data["campaign"])
        created = creative_create(
            campaign=data["campaign"],
            kind=data["kind"],
            title=data["title"],
            notes=data.get("notes") or "",
            upload=data.get("upload"),
            video_url=data.get("video_url") or "",
            caption=data.get("caption") or "",
            actor=request.user,
        )
        obj.pk = created.pk

    # --- display ---

    def _thumb_url(self, obj: Creative) -> str:
        return reverse("admin:creatives_creative_thumbnail", args=[obj.pk])

    def _file_url(self, obj: Creative) -> str:
        return reverse("admin:creatives_creative_file", args=[obj.pk])

    @admin.display(description=_("Preview"))
    def preview_small(self, obj: Creative) -> str:
        if obj.kind == Creative.Kind.IMAGE and obj.thumbnail:
            return format_html(
                '<img src="{}" alt="" class="creative-thumb" width="64" height="64" loading="lazy">',
                self._thumb_url(obj),
            )
        labels: dict[str, str] = {
            Creative.Kind.VIDEO: "▶",
            Creative.Kind.CAPTION: "¶",
            Creative.Kind.GUIDELINES: "PDF",
        }
        return format_html('<span class="creative-glyph">{}</span>', labels.get(obj.kind, "·"))

    @admin.display(description=_("Preview"))
    def preview(self, obj: Creative) -> str:
        if obj.kind == Creative.Kind.IMAGE:
            return format_html(
                '<a href="{}"><img src="{}" alt="{}" class="creative-preview"></a><br><a href="{}">{}</a>',
                self._file_url(obj),
                self._thumb_url(obj),
                obj.title,
                self._file_url(obj),
                _("Download the original"),
            )
        if obj.kind == Creative.Kind.GUIDELINES:
            return format_html('<a href="{}">{}</a>', self._file_url(obj), _("Download the PDF"))
        if obj.kind == Creative.Kind.VIDEO:
            return format_html(
                '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', obj.video_url, obj.video_url
            )
        example, _missing = caption_fill(
            obj.caption, {"code": "ANA10", "link": "https://…/r/ana-summer", "brand": obj.brand.name}
        )
        return format_html(
            '<p>{}</p><blockquote class="creative-caption-preview">{}</blockquote>',
            _("As an influencer sees it (example code and link):"),
            example,
        )

    @admin.display(description=_("File"))
    def file_facts(self, obj: Creative) -> str:
        if not obj.file:
            return "—"
        dims = f" · {obj.width}×{obj.height} px" if obj.width and obj.height else ""
        return f"{obj.original_name or '—'} · {obj.content_type} · {filesizeformat(obj.size)}{dims}"

    @admin.display(description=_("Size"), ordering="size")
    def size_display(self, obj: Creative) -> str:
        if obj.file:
            return str(filesizeformat(obj.size))
        if obj.kind == Creative.Kind.CAPTION:
            return truncatechars(obj.caption, 40)
        return "—"

    # --- private files ---

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/file/", view(self.file_view), name="creatives_creative_file"),
            path("<int:pk>/thumbnail/", view(self.thumbnail_view), name="creatives_creative_thumbnail"),
            *super().get_urls(),
        ]

    def _viewable(self, request: HttpRequest, pk: int) -> Creative:
        obj = self.get_object(request, str(pk))  # another brand's piece: 404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return obj  # type: ignore[no-any-return]

    def file_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        obj = self._viewable(request, pk)
        if not obj.file:
            raise Http404
        return private_file_response(obj.file, download_name=obj.download_name)

    def thumbnail_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._viewable(request, pk)
        if not obj.thumbnail:
            raise Http404
        return thumbnail_response(obj)

    # --- actions ---

    @admin.action(description=_("Archive selected (hide from influencers)"), permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Creative]) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(description=_("Show selected to influencers again"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet[Creative]) -> None:
        self._set_active(request, queryset, active=True)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Creative], *, active: bool) -> None:
        def call(creative: Creative) -> None:
            if not creative_set_active(creative=creative, active=active, actor=request.user):
                raise ApplicationError(_("Already so; nothing changed."))

        run_each(
            self,
            request,
            queryset,
            call,
            singular=gettext_noop("%(count)d creative changed."),
            plural=gettext_noop("%(count)d creatives changed."),
        )
