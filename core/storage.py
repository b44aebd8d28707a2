"""Private files (KYC documents, payout proofs): stored in the "private" storage, which has no
public URL, and handed out only by views that checked permissions first."""

import mimetypes
from typing import Any

from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import FileResponse, HttpResponse, HttpResponseRedirect


class PrivateFileSystemStorage(FileSystemStorage):
    """Local private files: no URL at all (FileSystemStorage would fall back to MEDIA_URL)."""

    def url(self, name: str | None) -> str:
        raise ValueError("This file is private and not accessible via a URL; serve it through a view.")


def private_storage() -> Storage:
    return storages["private"]


def private_file_response(file_field: Any, *, download_name: str | None = None) -> HttpResponse | FileResponse:
    """Serve a private file to someone already authorised. S3 answers with a short-lived
    signed URL; the local filesystem streams the bytes."""
    storage = file_field.storage
    name = file_field.name
    filename = download_name or name.rsplit("/", 1)[-1]
    if getattr(storage, "querystring_auth", False):
        response: HttpResponse | FileResponse = HttpResponseRedirect(storage.url(name))
    else:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response = FileResponse(
            storage.open(name, "rb"), as_attachment=True, filename=filename, content_type=content_type
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
