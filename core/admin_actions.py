"""What every back-office action needs: run one service per selected row, report refusals per
row and successes as one translated sentence; and a read-only base for ledger/audit-like
admins whose rows only services write."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext

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
        # The two forms are separate catalogue entries (gettext_noop at the call site), so pick
        # one and translate it; done >= 1 here, where "1 → singular" holds in es, en and pt-BR.
        message = gettext(singular if done == 1 else plural)
        modeladmin.message_user(request, message % {"count": done}, messages.SUCCESS)
    return done


class ReadOnlyAdminMixin:
    """Rows written only by services (ledger, audit, raw notifications): view, never edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
