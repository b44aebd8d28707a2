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


# --- Expiring links to private files -------------------------------------------------------

PRIVATE_LINK_MAX_AGE = 300  # seconds


class PrivateLinkInvalid(Exception):
    """The link was altered, is for someone else, or expired (`expired` says which)."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def private_link_token(*, salt: str, object_id: int, file_name: str, user_id: int) -> str:
    """A signed, timestamped token naming one private file of one object for one user. The view
    that serves it checks the signature, the age (`private_link_read`) and the user."""
    from django.core import signing

    return signing.TimestampSigner(salt=salt).sign_object({"o": object_id, "f": file_name, "u": user_id})


def private_link_read(*, salt: str, token: str, max_age: int = PRIVATE_LINK_MAX_AGE) -> dict[str, Any]:
    """{"o": object id, "f": file name, "u": user id} of a valid token; raises
    PrivateLinkInvalid otherwise."""
    from django.core import signing

    try:
        value = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise PrivateLinkInvalid(expired=True) from exc
    except signing.BadSignature as exc:
        raise PrivateLinkInvalid(expired=False) from exc
    if not isinstance(value, dict) or not {"o", "f", "u"} <= set(value):
        raise PrivateLinkInvalid(expired=False)
    return value
