"""Errors the VTEX client raises. Each says what VTEX said, in words a manager can act on, and
carries the HTTP status and VTEX's own message for logs and the admin."""

from typing import Any

from django.utils.translation import gettext as _

from core.errors import ApplicationError


class VTEXError(ApplicationError):
    """VTEX refused a call (a 4xx other than 429) or could not be reached.

    `status` is the HTTP status (None when no answer came back); `vtex_message` is the text VTEX
    put in its error body, whatever its shape (OMS object, problem+json, bare string)."""

    default_code = "vtex_error"
    status_code = 502
    retryable = False

    def __init__(
        self,
        message: Any = None,
        *,
        status: int | None = None,
        vtex_message: str = "",
        operation: str = "",
        code: str | None = None,
    ) -> None:
        self.status = status
        self.vtex_message = vtex_message
        self.operation = operation
        if message is None:
            if status is not None:
                message = _("VTEX answered %(status)s to %(operation)s: %(message)s") % {
                    "status": status,
                    "operation": operation or _("a request"),
                    "message": vtex_message or _("no explanation given"),
                }
            else:
                message = vtex_message or _("VTEX could not be reached.")
        super().__init__(message, code=code)


class VTEXCredentialsMissing(VTEXError):
    default_code = "vtex_credentials_missing"

    def __init__(self, *, account: str) -> None:
        super().__init__(
            _("The brand %(account)s has no VTEX app key and token yet. Add them on the brand page, then try again.")
            % {"account": account},
        )


class VTEXUnavailable(VTEXError):
    """VTEX did not answer, or answered 5xx, on every attempt. Safe to try again later."""

    default_code = "vtex_unavailable"
    status_code = 503
    retryable = True


class VTEXRateLimited(VTEXError):
    """VTEX kept answering 429 (or asked us to wait longer than we are willing to block)."""

    default_code = "vtex_rate_limited"
    status_code = 503
    retryable = True

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)
