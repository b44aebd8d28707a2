"""What every back-office action needs: run one service per selected row, report refusals per
row and successes as one translated sentence; and a read-only base for ledger/audit-like
admins whose rows only services write."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import ngettext

from core.errors import ApplicationError


def run_each[T](
    modeladmin: Any,
    request: HttpRequest,
    items: Iterable[T],
    call: Callable[[T], Any],
    *,
    singular: str,
    plural: str,
) -> int:
    """Call `call(item)` for each item. An ApplicationError is shown next to its row and the
    others go on. `singular`/`plural` are untranslated msgids with `%(count)d`, e.g.
    ("%(count)d code queued for sync.", "%(count)d codes queued for sync."), marked with
    gettext_noop at the call site so makemessages finds them."""
    done = 0
    for item in items:
        try:
            call(item)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{item}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, ngettext(singular, plural, done) % {"count": done}, messages.SUCCESS)
    return done


class ReadOnlyAdminMixin:
    """Rows written only by services (ledger, audit, raw notifications): view, never edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
