"""The error every influencer write refuses with, and the normalisations that applying and
editing a profile share (handles, phone numbers)."""

import re

from django.utils.translation import gettext as _

from core.errors import ApplicationError

_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ().-]{6,19}$")


class ApplicationRefused(ApplicationError):
    """An application or profile change that breaks a rule. `extra["field"]` names the form
    field the message belongs to, when there is one."""

    default_code = "application_refused"


def application_refused(message: str, *, field: str | None = None, code: str | None = None) -> ApplicationRefused:
    return ApplicationRefused(message, code=code, extra={"field": field} if field else {})


def handle_clean(value: str) -> str:
    return value.strip().lstrip("@")


def phone_normalize(value: str) -> str:
    raw = (value or "").strip()
    if not _PHONE_RE.match(raw):
        raise application_refused(_("Enter a phone number with country code, e.g. +57 300 123 4567."), field="phone")
    return ("+" if raw.startswith("+") else "") + re.sub(r"\D", "", raw)
