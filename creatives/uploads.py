"""What an uploaded creative really is, read from its bytes (the extension and the browser's
content type are the uploader's claims, so neither is trusted), and the checks on the other
kinds: https-only video addresses and captions whose placeholders we know how to fill."""

import hashlib
import io
import re
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ApplicationError

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
THUMBNAIL_BOX = (640, 640)
#: what a caption may contain between braces; filled per influencer (`caption_fill`)
PLACEHOLDERS = ("code", "link", "brand")
_PLACEHOLDER = re.compile(r"\{([^{}\s]{0,40})\}")
CAPTION_MAX_CHARS = 2200  # Instagram's limit, the tightest of the networks influencers post to


class CreativeInvalid(ApplicationError):
    """The upload or text cannot be a creative; `extra["field"]` names the form field."""

    default_code = "creative_invalid"

    def __init__(self, message: Any, *, field: str) -> None:
        super().__init__(message, extra={"field": field})


@dataclass(frozen=True)
class InspectedFile:
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


def image_max_bytes() -> int:
    return int(settings.CREATIVES_IMAGE_MAX_BYTES)


def pdf_max_bytes() -> int:
    return int(settings.CREATIVES_PDF_MAX_BYTES)


def _sniff(head: bytes) -> str | None:
    if head.startswith(PDF_MAGIC):
        return "application/pdf"
    if head.startswith(PNG_MAGIC):
        return "image/png"
    if head.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _size(upload: Any) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    return int(size)


def _too_big(size: int, limit: int) -> str:
    return _("The file is %(size)s; the limit is %(limit)s.") % {
        "size": filesizeformat(size),
        "limit": filesizeformat(limit),
    }


def _digest(upload: IO[bytes]) -> str:
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _image_dimensions(upload: IO[bytes], expected_format: str) -> tuple[int, int] | None:
    """(width, height) of an image that opens whole in the expected format; None otherwise."""

    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format != expected_format:
                return None
            size = image.size
            image.verify()  # walks the whole file; raises on truncation or corruption
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    return size


def creative_image_inspect(upload: Any, *, field: str = "file") -> InspectedFile:
    """A JPEG, PNG or WebP image no bigger than the limit, or CreativeInvalid. Leaves the file
    positioned at the start."""
    size = _size(upload)
    if size == 0:
        raise CreativeInvalid(_("The file is empty."), field=field)
    if size > image_max_bytes():
        raise CreativeInvalid(_too_big(size, image_max_bytes()), field=field)
    upload.seek(0)
    content_type = _sniff(upload.read(16))
    if content_type not in IMAGE_FORMATS:
        raise CreativeInvalid(
            _("Upload a JPEG, PNG or WebP image. This file is of another type, whatever its name says."), field=field
        )
    dimensions = _image_dimensions(upload, IMAGE_FORMATS[content_type])
    if dimensions is None:
        raise CreativeInvalid(_("The image is damaged or is not really a JPEG, PNG or WebP."), field=field)
    return InspectedFile(
        content_type=content_type, size=size, sha256=_digest(upload), width=dimensions[0], height=dimensions[1]
    )


def creative_pdf_inspect(upload: Any, *, field: str = "file") -> InspectedFile:
    """A whole PDF no bigger than the limit, or CreativeInvalid."""
    size = _size(upload)
    if size == 0:
        raise CreativeInvalid(_("The file is empty."), field=field)
    if size > pdf_max_bytes():
        raise CreativeInvalid(_too_big(size, pdf_max_bytes()), field=field)
    upload.seek(0)
    if _sniff(upload.read(16)) != "application/pdf":
        raise CreativeInvalid(
            _("Brand guidelines must be a PDF. This file is of another type, whatever its name says."), field=field
        )
    upload.seek(max(0, size - 1024))
    if b"%%EOF" not in upload.read():
        upload.seek(0)
        raise CreativeInvalid(_("The PDF is incomplete or damaged. Export it again and upload it."), field=field)
    return InspectedFile(content_type="application/pdf", size=size, sha256=_digest(upload))


def creative_thumbnail(upload: IO[bytes]) -> bytes:
    """A JPEG no larger than THUMBNAIL_BOX of an image already inspected: what the portal's
    grid and the admin's list show, so pages never load the full-size file."""

    upload.seek(0)
    with Image.open(upload) as image:
        picture = ImageOps.exif_transpose(image) or image
        if picture.mode not in ("RGB", "L"):
            background = Image.new("RGB", picture.size, (255, 255, 255))
            rgba = picture.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            picture = background
        picture = picture.convert("RGB")
        picture.thumbnail(THUMBNAIL_BOX)
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=82, optimize=True)
    upload.seek(0)
    return out.getvalue()


def video_url_clean(value: str, *, field: str = "video_url") -> str:
    """A https address of a video (YouTube, TikTok, Instagram, a drive...), or CreativeInvalid."""
    value = (value or "").strip()
    if not value:
        raise CreativeInvalid(_("Paste the address of the video."), field=field)
    if urlsplit(value).scheme.lower() != "https":
        raise CreativeInvalid(_("The video address must start with https://."), field=field)
    try:
        URLValidator(schemes=["https"])(value)
    except ValidationError as exc:
        raise CreativeInvalid(_("This is not a valid web address."), field=field) from exc
    if len(value) > 1000:
        raise CreativeInvalid(_("The address is too long (at most 1000 characters)."), field=field)
    return value


def caption_clean(value: str, *, field: str = "caption") -> str:
    """Caption text whose placeholders are all known, within the length networks accept."""
    value = (value or "").strip()
    if not value:
        raise CreativeInvalid(_("Write the caption."), field=field)
    if len(value) > CAPTION_MAX_CHARS:
        raise CreativeInvalid(
            _("The caption has %(count)d characters; the limit is %(limit)d.")
            % {"count": len(value), "limit": CAPTION_MAX_CHARS},
            field=field,
        )
    unknown = sorted({name for name in _PLACEHOLDER.findall(value) if name not in PLACEHOLDERS})
    if unknown:
        raise CreativeInvalid(
            _("Unknown placeholder %(unknown)s. Use %(known)s.")
            % {
                "unknown": ", ".join("{" + name + "}" for name in unknown),
                "known": ", ".join("{" + name + "}" for name in PLACEHOLDERS),
            },
            field=field,
        )
    return value


def caption_fill(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """`text` with each known placeholder replaced by its value. A placeholder without a value
    (no active code yet) stays as it is and is returned in the second item, so the page can say
    why. Plain replacement, never str.format: a caption is data, not a template."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = values.get(name) or ""
        if not value:
            if name not in missing:
                missing.append(name)
            return match.group(0)
        return value

    return _PLACEHOLDER.sub(replace, text), missing
