"""The creatives library: what a brand gives the influencers of a campaign to post (images,
videos as links, captions with placeholders, brand guidelines). Files live in private storage
and are only handed out by views that checked who asks (`creatives.services`, `core.storage`)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.storage import private_storage

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "application/pdf": "pdf"}


def creative_upload_to(instance: "Creative", filename: str) -> str:
    # The name never comes from the uploader: no path tricks, no guessable names.
    extension = EXTENSIONS.get(instance.content_type, "bin")
    return f"creatives/{instance.brand_id}/{instance.campaign_id}/{uuid.uuid4().hex}.{extension}"


def creative_thumbnail_to(instance: "Creative", filename: str) -> str:
    return f"creatives/{instance.brand_id}/{instance.campaign_id}/thumbs/{uuid.uuid4().hex}.jpg"


class Creative(TimeStampedModel):
    """One piece of the library of a campaign. Which fields hold content depends on `kind`
    (database constraints say so): an image or guidelines have a file, a video a https URL,
    a caption its text. Archived pieces (`is_active` off) leave the portal and the API list."""

    BRAND_FIELD = "brand"

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video (link)")
        CAPTION = "caption", _("Caption")
        GUIDELINES = "guidelines", _("Brand guidelines (PDF)")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="creatives", verbose_name=_("brand")
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="creatives", verbose_name=_("campaign")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=160)
    notes = models.TextField(_("notes for influencers"), blank=True, max_length=1000)
    file = models.FileField(
        _("file"), upload_to=creative_upload_to, storage=private_storage, max_length=255, blank=True
    )
    thumbnail = models.FileField(
        _("thumbnail"), upload_to=creative_thumbnail_to, storage=private_storage, max_length=255, blank=True
    )
    content_type = models.CharField(_("content type"), max_length=40, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)
    width = models.PositiveIntegerField(_("width (px)"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height (px)"), null=True, blank=True)
    video_url = models.URLField(_("video address"), max_length=1000, blank=True)
    caption = models.TextField(_("caption"), blank=True, max_length=2200)
    is_active = models.BooleanField(_("shown to influencers"), default=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )

    class Meta:
        verbose_name = _("creative")
        verbose_name_plural = _("creatives")
        ordering = ["campaign", "kind", "-created_at", "-pk"]
        indexes = [models.Index(fields=["campaign", "is_active"], name="creative_campaign_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["image", "guidelines"], video_url="", caption="")
                    & ~models.Q(file="")
                    & ~models.Q(content_type="")
                )
                | models.Q(kind="video", file="", caption="", video_url__startswith="https://")
                | (models.Q(kind="caption", file="", video_url="") & ~models.Q(caption="")),
                name="creative_content_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, "bin")

    @property
    def download_name(self) -> str:
        """A file name for the download: the title, made safe, with the real extension."""

        return f"{slugify(self.title)[:60] or 'creative'}-{self.pk}.{self.extension}"
