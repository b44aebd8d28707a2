from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """ApplicationError from a service becomes a 4xx with its message and code."""
    if isinstance(exc, ApplicationError):
        return Response({"detail": str(exc.message), "code": exc.code, **exc.extra}, status=exc.status_code)
    return drf_exception_handler(exc, context)
