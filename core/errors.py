"""Errors that services raise. Each carries a message a person can act on, already translated
(services use gettext), and an optional machine-readable code for API clients."""

from typing import Any


class ApplicationError(Exception):
    """A rule of the domain refused the operation. Edges turn it into a 4xx or a form error."""

    default_code = "invalid"
    status_code = 400

    def __init__(self, message: Any, *, code: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)


class NotFound(ApplicationError):
    default_code = "not_found"
    status_code = 404


class PermissionRefused(ApplicationError):
    default_code = "permission_denied"
    status_code = 403


class Conflict(ApplicationError):
    """The object is not in a state that allows the operation (an illegal status move, say)."""

    default_code = "conflict"
    status_code = 409
