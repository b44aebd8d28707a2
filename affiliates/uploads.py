"""What a KYC upload really is, read from its bytes: the extension and the browser's declared
content type are the uploader's claims, so neither is trusted."""

import hashlib
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from core.errors import ApplicationError

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def kyc_max_bytes() -> int:
    return int(settings.KYC_MAX_UPLOAD_BYTES)


class UploadInvalid(ApplicationError):
    default_code = "upload_invalid"


@dataclass(frozen=True)
class InspectedFile:
    content_type: str
    size: int
    sha256: str


def sniff_content_type(head: bytes) -> str | None:
    if head.startswith(PDF_MAGIC):
        return "application/pdf"
    if head.startswith(PNG_MAGIC):
        return "image/png"
    if head.startswith(JPEG_MAGIC):
        return "image/jpeg"
    return None


def _image_opens(upload: IO[bytes], expected_format: str) -> bool:
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format != expected_format:
                return False
            image.verify()  # walks the whole file; raises on truncation or corruption
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    finally:
        upload.seek(0)
    return True


def kyc_file_inspect(upload: Any) -> InspectedFile:
    """Accept a PDF, PNG or JPEG no bigger than the limit, or raise UploadInvalid.

    Leaves the file positioned at the start."""
    max_bytes = kyc_max_bytes()
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size == 0:
        raise UploadInvalid(_("The file is empty."))
    if size > max_bytes:
        raise UploadInvalid(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes)}
        )
    upload.seek(0)
    head = upload.read(16)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise UploadInvalid(_("Upload a PDF, JPEG or PNG file. This file is of another type, whatever its name says."))
    if content_type == "application/pdf":
        upload.seek(max(0, size - 1024))
        if b"%%EOF" not in upload.read():
            raise UploadInvalid(_("The PDF is incomplete or damaged. Export it again and upload it."))
    elif not _image_opens(upload, "PNG" if content_type == "image/png" else "JPEG"):
        raise UploadInvalid(_("The image is damaged or is not really a JPEG or PNG."))
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return InspectedFile(content_type=content_type, size=size, sha256=digest.hexdigest())
