"""Private files (KYC documents, payout proofs): stored in the "private" storage, which has no
public URL, and handed out only by views that checked permissions first."""

import mimetypes
from typing import Any

from django.core import signing
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.functional import LazyObject, empty
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import setting


class PrivateFileSystemStorage(FileSystemStorage):
    """Local private files: no URL at all (FileSystemStorage would fall back to MEDIA_URL)."""

    def url(self, name: str | None) -> str:
        raise ValueError("This file is private and not accessible via a URL; serve it through a view.")


class PrivateS3Storage(S3Storage):
    """The private bucket: objects with a private ACL, reached only through signed URLs.

    `public_endpoint_url` (AWS_S3_PUBLIC_ENDPOINT_URL) signs those URLs for the address browsers
    reach when the application talks to the store by an internal name (compose: http://minio:9000
    inside the network, http://localhost:9000 outside). A V4 signature covers the host, so the
    URL cannot be rewritten after signing: it is signed by a client that names the public host.
    """

    def get_default_settings(self) -> dict[str, Any]:
        return {**super().get_default_settings(), "public_endpoint_url": setting("AWS_S3_PUBLIC_ENDPOINT_URL")}

    def url(
        self, name: str, parameters: dict[str, Any] | None = None, expire: int | None = None, http_method: Any = None
    ) -> str:
        if not self.public_endpoint_url:
            return str(super().url(name, parameters=parameters, expire=expire, http_method=http_method))
        client = self._create_session().client(
            "s3",
            region_name=self.region_name,
            use_ssl=self.public_endpoint_url.startswith("https://"),
            endpoint_url=self.public_endpoint_url,
            config=self.client_config,
            verify=self.verify,
        )
        params = {**(parameters or {}), "Bucket": self.bucket_name, "Key": self._normalize_name(name)}
        return str(
            client.generate_presigned_url(
                "get_object",
                Params=params,
                ExpiresIn=self.querystring_expire if expire is None else expire,
                HttpMethod=http_method,
            )
        )


class _PrivateStorage(LazyObject):
    """storages["private"], looked up on first use and again after STORAGES changes (tests that
    switch to the S3 protocol server): model fields keep this one object for their life."""

    def _setup(self) -> None:
        self._wrapped: Any = storages["private"]


_private_storage = _PrivateStorage()


@receiver(setting_changed)
def _private_storage_reset(*, setting: str, **_kwargs: Any) -> None:
    if setting == "STORAGES":
        _private_storage._wrapped = empty


def private_storage() -> Storage:
    return _private_storage  # type: ignore[return-value]


def private_file_response(file_field: Any, *, download_name: str | None = None) -> HttpResponse | FileResponse:
    """Serve a private file to someone already authorised. S3 answers with a short-lived
    signed URL; the local filesystem streams the bytes."""
    storage = file_field.storage
    name = file_field.name
    filename = download_name or name.rsplit("/", 1)[-1]
    if getattr(storage, "querystring_auth", False):
        # The signed URL also tells the store how to name the download.
        disposition = {"ResponseContentDisposition": _attachment(filename)}
        response: HttpResponse | FileResponse = HttpResponseRedirect(storage.url(name, parameters=disposition))
    else:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response = FileResponse(
            storage.open(name, "rb"), as_attachment=True, filename=filename, content_type=content_type
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _attachment(filename: str) -> str:
    return content_disposition_header(as_attachment=True, filename=filename) or "attachment"


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

    return signing.TimestampSigner(salt=salt).sign_object({"o": object_id, "f": file_name, "u": user_id})


def private_link_read(*, salt: str, token: str, max_age: int = PRIVATE_LINK_MAX_AGE) -> dict[str, Any]:
    """{"o": object id, "f": file name, "u": user id} of a valid token; raises
    PrivateLinkInvalid otherwise."""

    try:
        value = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise PrivateLinkInvalid(expired=True) from exc
    except signing.BadSignature as exc:
        raise PrivateLinkInvalid(expired=False) from exc
    if not isinstance(value, dict) or not {"o", "f", "u"} <= set(value):
        raise PrivateLinkInvalid(expired=False)
    return value
