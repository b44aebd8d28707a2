"""Writes of the creatives library. Managers add pieces to a campaign (checked here, whatever
the edge: admin or tests), change their words, archive and restore them. Every write audits in
its transaction. Files are inspected before anything is stored, and a file stored by a write
that then fails is deleted, so a refused upload leaves nothing behind."""

import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from campaigns.models import Campaign
from core import events
from core.errors import ApplicationError, NotFound
from core.storage import PrivateLinkInvalid, private_link_read, private_link_token
from creatives.models import Creative
from creatives.uploads import (
    CreativeInvalid,
    InspectedFile,
    caption_clean,
    creative_image_inspect,
    creative_pdf_inspect,
    creative_thumbnail,
    video_url_clean,
)

logger = logging.getLogger(__name__)

_LINK_SALT = "creatives.file"


def _title_clean(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise CreativeInvalid(_("Give the creative a title influencers will recognise."), field="title")
    if len(title) > 160:
        raise CreativeInvalid(_("The title is too long (at most 160 characters)."), field="title")
    return title


def _check_campaign(campaign: Campaign) -> None:
    if campaign.is_template:
        raise CreativeInvalid(_("Templates never run; add creatives to a campaign created from it."), field="campaign")


def creative_create(
    *,
    campaign: Campaign,
    kind: str,
    title: str,
    notes: str = "",
    upload: Any = None,
    video_url: str = "",
    caption: str = "",
    actor: Any = None,
) -> Creative:
    """Add one piece to the campaign's library. `kind` says which content is required: an
    image (JPEG/PNG/WebP) or guidelines (PDF) as `upload`, a https `video_url`, or a `caption`
    with known placeholders. Raises CreativeInvalid (naming the field) before storing anything."""
    _check_campaign(campaign)
    title = _title_clean(title)
    creative = Creative(
        brand_id=campaign.brand_id,
        campaign=campaign,
        kind=kind,
        title=title,
        notes=(notes or "").strip()[:1000],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    inspected: InspectedFile | None = None
    if kind == Creative.Kind.IMAGE:
        if upload is None:
            raise CreativeInvalid(_("Choose the image to upload."), field="file")
        inspected = creative_image_inspect(upload)
    elif kind == Creative.Kind.GUIDELINES:
        if upload is None:
            raise CreativeInvalid(_("Choose the PDF to upload."), field="file")
        inspected = creative_pdf_inspect(upload)
    elif kind == Creative.Kind.VIDEO:
        creative.video_url = video_url_clean(video_url)
    elif kind == Creative.Kind.CAPTION:
        creative.caption = caption_clean(caption)
    else:
        raise CreativeInvalid(_("Choose what kind of creative this is."), field="kind")
    if upload is not None and inspected is None:
        raise CreativeInvalid(_("Only images and brand guidelines carry a file."), field="file")

    stored: list[str] = []
    try:
        with transaction.atomic():
            if inspected is not None:
                creative.content_type = inspected.content_type
                creative.size = inspected.size
                creative.sha256 = inspected.sha256
                creative.width, creative.height = inspected.width, inspected.height
                creative.original_name = str(getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:200]
                if kind == Creative.Kind.IMAGE:
                    thumbnail = creative_thumbnail(upload)
                # Saving the field writes to private storage; the name is generated.
                upload.seek(0)
                creative.file.save("upload", upload, save=False)
                stored.append(creative.file.name or "")
                if kind == Creative.Kind.IMAGE:
                    creative.thumbnail.save("thumb.jpg", ContentFile(thumbnail), save=False)
                    stored.append(creative.thumbnail.name or "")
            creative.save()
            audit_record(
                action="creative.created",
                target=creative,
                actor=actor,
                brand_id=campaign.brand_id,
                after={
                    "campaign": campaign.pk,
                    "kind": kind,
                    "title": title,
                    "content_type": creative.content_type,
                    "size": creative.size,
                    "sha256": creative.sha256,
                    "video_url": creative.video_url,
                },
            )
            # The campaign's influencers hear of it (notifications), with the piece.
            events.publish(
                "creative.published",
                brand_id=campaign.brand_id,
                data={
                    "creative_id": creative.pk,
                    "campaign_id": campaign.pk,
                    "campaign": campaign.name,
                    "kind": kind,
                    "title": title,
                },
            )
    except Exception:
        _delete_stored(stored)
        raise
    return creative


def creative_update(
    *, creative: Creative, title: str, notes: str = "", video_url: str = "", caption: str = "", actor: Any = None
) -> Creative:
    """Change a piece's words (title, notes, and the caption or video address of those kinds).
    A file is never replaced in place: upload a new piece and archive the old one."""
    before = {
        "title": creative.title,
        "notes": creative.notes,
        "caption": creative.caption,
        "video_url": creative.video_url,
    }
    creative.title = _title_clean(title)
    creative.notes = (notes or "").strip()[:1000]
    if creative.kind == Creative.Kind.VIDEO:
        creative.video_url = video_url_clean(video_url)
    elif creative.kind == Creative.Kind.CAPTION:
        creative.caption = caption_clean(caption)
    after = {
        "title": creative.title,
        "notes": creative.notes,
        "caption": creative.caption,
        "video_url": creative.video_url,
    }
    if after == before:
        return creative
    with transaction.atomic():
        creative.save(update_fields=["title", "notes", "caption", "video_url", "updated_at"])
        audit_record(
            action="creative.updated",
            target=creative,
            actor=actor,
            brand_id=creative.brand_id,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return creative


def creative_set_active(*, creative: Creative, active: bool, actor: Any = None) -> bool:
    """Show a piece to influencers again, or archive it (it leaves the portal and the API list;
    its file stays for the record). Returns whether anything changed (idempotent)."""
    with transaction.atomic():
        changed = Creative.objects.filter(pk=creative.pk, is_active=not active).update(is_active=active)
        if not changed:
            return False
        creative.is_active = active
        audit_record(
            action="creative.restored" if active else "creative.archived",
            target=creative,
            actor=actor,
            brand_id=creative.brand_id,
            before={"is_active": not active},
            after={"is_active": active},
        )
    return True


def _delete_stored(names: list[str]) -> None:
    storage = Creative._meta.get_field("file").storage  # type: ignore[union-attr]
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except OSError:  # pragma: no cover - best effort; an orphan file holds no reference
            logger.warning("could not delete orphaned creative file %s", name)


# --- Downloads: expiring, per-person links ---------------------------------------------------


def creative_download_token(*, creative: Creative, user: Any) -> str:
    """A token that lets `user` (already allowed to see the piece) download its file within
    core.storage.PRIVATE_LINK_MAX_AGE; the file itself never has a public URL."""
    if not creative.file:
        raise NotFound(_("This creative has no file to download."))
    return private_link_token(
        salt=_LINK_SALT, object_id=creative.pk, file_name=creative.file.name or "", user_id=user.pk
    )


def creative_download_resolve(*, token: str, user: Any) -> tuple[int, str]:
    """(creative id, file name) that `token` opens for `user`; the caller still checks that the
    person may see that creative now. Refuses an altered, expired or someone else's link."""
    try:
        value = private_link_read(salt=_LINK_SALT, token=token)
    except PrivateLinkInvalid as exc:
        if exc.expired:
            raise ApplicationError(
                _("This download link expired. Go back to the creatives page and download again."),
                code="link_expired",
            ) from exc
        raise NotFound(_("This link is not valid.")) from exc
    if value["u"] != getattr(user, "pk", None):
        raise NotFound(_("This link is not valid."))
    return int(value["o"]), str(value["f"])
