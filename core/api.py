"""What every API view shares: one error format (RFC 9457 problem details, decision 0019) and
cursor pagination for large lists."""

from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://mgm.dev/problems/"


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested validation errors → a flat list of {field, message, code}."""
    errors: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key != "non_field_errors" else ""
            errors.extend(_flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix)))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and not isinstance(value, exceptions.ErrorDetail):
                errors.extend(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
            else:
                errors.extend(_flatten(value, prefix))
    else:
        errors.append(
            {"field": prefix or None, "message": str(detail), "code": getattr(detail, "code", None) or "invalid"}  # type: ignore[dict-item]
        )
    return errors


def problem(
    *, status: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error the API answers is a problem details document (RFC 9457) with our `code`
    and, for invalid input, `errors` naming each field. ApplicationError from a service becomes
    its 4xx; headers DRF sets (Retry-After, WWW-Authenticate) are kept."""
    if isinstance(exc, ApplicationError):
        extra = dict(exc.extra)
        field = extra.pop("field", None)
        errors = extra.pop("errors", None)
        flat = _flatten(errors) if isinstance(errors, dict) else None
        if flat is None and field:
            flat = [{"field": field, "message": str(exc.message), "code": exc.code}]
        response = Response(
            problem(status=exc.status_code, code=exc.code, detail=str(exc.message), errors=flat, **extra),
            status=exc.status_code,
        )
    else:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        elif isinstance(exc, PermissionDenied):
            exc = exceptions.PermissionDenied()
        drf_response = drf_exception_handler(exc, context)
        if drf_response is None:
            return None
        response = drf_response
        if isinstance(exc, exceptions.ValidationError):
            response.data = problem(
                status=response.status_code,
                code="invalid",
                detail=_("The request has invalid fields; see errors."),
                errors=_flatten(exc.detail),
            )
        else:
            detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
            code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
            more: dict[str, Any] = {}
            wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
            if wait is not None:
                more["retry_after"] = int(wait + 0.999)
            response.data = problem(status=response.status_code, code=str(code), detail=str(detail), **more)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


class CreatedCursorPagination(CursorPagination):
    """Stable pages over large, growing lists: `?cursor=` from `next`/`previous`, newest first
    unless `?ordering=` says otherwise (among the view's `ordering_fields`)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


class OrderingCursorPagination(CreatedCursorPagination):
    """Cursor pagination that follows OrderingFilter's `?ordering=` (unique tie-breaker `id`)."""

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = super().get_ordering(request, queryset, view)
        ordering = tuple(ordering)
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering = (*ordering, "-id" if ordering and ordering[0].startswith("-") else "id")
        return ordering
