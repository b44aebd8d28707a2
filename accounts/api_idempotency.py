"""`Idempotency-Key` on POST, with Stripe's semantics: the first answer to a key is stored and
replayed for a repeat with the same body; the same key with another body is refused (422); a
repeat that arrives while the first is still running is refused (409) instead of running twice.
Keys are per client (API key or staff member) and kept 24 hours. Answers of 5xx are not stored,
so a retry after a server error runs again."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import APIKey, IdempotencyRecord
from core.errors import ApplicationError, Conflict

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(ApplicationError):
    default_code = "idempotency_key_reused"
    status_code = 422


def _owner(request: Request) -> str | None:
    if isinstance(request.auth, APIKey):
        return f"key:{request.auth.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


def _value(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    return value


def request_fingerprint(request: Request) -> str:
    """The same request twice gives the same hash, whatever the multipart boundary or the order
    of the fields."""
    data = request.data
    if hasattr(data, "lists"):
        items: Any = {key: [_value(v) for v in values] for key, values in data.lists()}
    else:
        items = data
    if hasattr(request, "FILES") and request.FILES:
        items = {"data": items, "files": {k: [_value(v) for v in request.FILES.getlist(k)] for k in request.FILES}}
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": items},
        sort_keys=True,
        cls=DjangoJSONEncoder,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(*, owner: str, key: str, request: Request, fingerprint: str) -> IdempotencyRecord | None:
    """Insert the record (committed at once, so a concurrent twin sees it). Returns None when we
    own the key now, or the record that was there first."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    owner=owner, key=key, method=request.method or "", path=request.path[:500], fingerprint=fingerprint
                )
            return None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
            if existing is None:
                continue  # deleted meanwhile (expired or a 5xx): try once more
            if existing.created_at < timezone.now() - TTL:
                IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
                continue
            return existing
    raise Conflict(
        _("Another request with this Idempotency-Key is in progress; retry shortly."), code="idempotency_in_progress"
    )


def idempotent[F: Callable[..., Response]](handler: F) -> F:
    """Decorate an APIView's `post`. Runs after authentication and permissions."""

    @wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        owner = _owner(request)
        if not key or owner is None:
            return handler(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApplicationError(
                _("The Idempotency-Key is longer than %(max)s characters.") % {"max": MAX_KEY_LENGTH},
                code="idempotency_key_invalid",
            )
        fingerprint = request_fingerprint(request)
        existing = _claim(owner=owner, key=key, request=request, fingerprint=fingerprint)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    _("This Idempotency-Key was already used with a different request; use a new key."),
                )
            if existing.state != IdempotencyRecord.State.DONE:
                raise Conflict(
                    _("Another request with this Idempotency-Key is in progress; retry shortly."),
                    code="idempotency_in_progress",
                )
            replay = Response(existing.response_body, status=existing.response_status)
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            try:
                response = handler(self, request, *args, **kwargs)
            except Exception as exc:
                # The exception handler would run after us; run it here to store its answer.
                response = self.handle_exception(exc)
        except BaseException:
            IdempotencyRecord.objects.filter(owner=owner, key=key).delete()
            raise
        if response.status_code >= 500 or response.status_code == 429:
            IdempotencyRecord.objects.filter(owner=owner, key=key).delete()
            return response
        body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder)) if response.data is not None else None
        IdempotencyRecord.objects.filter(owner=owner, key=key).update(
            state=IdempotencyRecord.State.DONE, response_status=response.status_code, response_body=body
        )
        return response

    return wrapper  # type: ignore[return-value]


def idempotency_records_purge(*, now: Any = None) -> int:
    """Delete records past their 24 hours (Beat, hourly)."""
    now = now or timezone.now()
    deleted, _count = IdempotencyRecord.objects.filter(created_at__lt=now - TTL).delete()
    return int(deleted)
