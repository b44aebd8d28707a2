"""KYC documents handed in with an application: inspected before the transaction, stored
inside it, and their files deleted if it rolls back (the storage is not transactional)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from affiliates.models import KYCDocument, Membership
from affiliates.services.validation import application_refused
from affiliates.uploads import kyc_file_inspect
from core.errors import ApplicationError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KycUpload:
    kind: str
    file: Any  # an UploadedFile or any binary file object with a name


def kyc_documents_check(documents: Sequence[KycUpload]) -> list[tuple[KycUpload, Any]]:
    if not any(doc.kind == KYCDocument.Kind.IDENTITY for doc in documents):
        raise application_refused(_("Attach a photo or scan of your identity document."), field="identity_document")
    valid_kinds = set(KYCDocument.Kind.values)
    inspected = []
    for doc in documents:
        if doc.kind not in valid_kinds:
            raise application_refused(_("Unknown kind of document."))
        try:
            inspected.append((doc, kyc_file_inspect(doc.file)))
        except ApplicationError as exc:
            field = "identity_document" if doc.kind == KYCDocument.Kind.IDENTITY else "other_document"
            raise application_refused(str(exc.message), field=field, code="upload_invalid") from exc
    return inspected


def kyc_store(*, membership: Membership, inspected: list[tuple[KycUpload, Any]], stored: list[str]) -> None:
    for upload, info in inspected:
        original = str(getattr(upload.file, "name", "") or "").rsplit("/", 1)[-1][:200]
        document = KYCDocument(
            membership=membership,
            kind=upload.kind,
            content_type=info.content_type,
            size=info.size,
            sha256=info.sha256,
            original_name=original,
        )
        upload.file.seek(0)
        # Saving the field writes to private storage; the name is generated (kyc_upload_to).
        document.file.save("upload", upload.file, save=False)
        stored.append(document.file.name or "")
        document.save()


def kyc_stored_delete(names: list[str]) -> None:
    storage = KYCDocument._meta.get_field("file").storage  # type: ignore[union-attr]
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # pragma: no cover - best effort; an orphan file holds no reference
            logger.warning("could not delete orphaned KYC file %s", name)
