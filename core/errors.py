"""Errors that services raise. Each carries a message a person can act on, already translated
(services use gettext), and an optional machine-readable code for API clients."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model


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


def validation_error_as(
    exc: ValidationError, error_class: type[ApplicationError] = ApplicationError
) -> ApplicationError:
    """A model's ValidationError as one ApplicationError whose message lists every problem and
    whose `extra["errors"]` keeps them per field, for forms and API clients."""
    if hasattr(exc, "error_dict"):
        errors = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        text = " ".join(" ".join(messages) for messages in errors.values())
    else:
        errors = {"__all__": [str(m) for m in exc.messages]}
        text = " ".join(exc.messages)
    return error_class(text, extra={"errors": errors})


def full_clean_or_raise(
    instance: Model, *, exclude: Sequence[str] = (), error_class: type[ApplicationError] = ApplicationError
) -> None:
    """Run the model's validation as a service does before saving: any problem becomes one
    ApplicationError (`error_class`) a person can act on."""
    try:
        instance.full_clean(exclude=list(exclude) or None)
    except ValidationError as exc:
        raise validation_error_as(exc, error_class) from exc
