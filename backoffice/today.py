"""Today: the queues waiting for this person on the back office's first page, each with its
count and a link to the filtered list. Only queues the person may work appear, so a viewer
sees no decision queue and a manager no payment queue."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from affiliates.models import Membership
from brands.scoping import brand_ids_for_user, scope_queryset
from claims.selectors import claim_open_queryset
from core.counting import counts_at_once
from orders.models import Discrepancy
from payments.models import Withdrawal
from tracking.models import FraudFlag


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    count: int
    url: str


def today_queues(*, user: Any) -> list[Queue]:
    brand_ids = brand_ids_for_user(user)
    # (key, label, what waits, its filtered list), for the queues this person may work.
    waiting: list[tuple[str, str, QuerySet[Any], str]] = []
    if user.has_perm("affiliates.change_membership"):
        waiting.append(
            (
                "applications",
                _("Applications to decide"),
                scope_queryset(
                    Membership.objects.filter(status=Membership.Status.PENDING), brand_ids, brand_field="brand"
                ),
                reverse("admin:affiliates_membership_changelist") + "?status__exact=pending",
            )
        )
    if user.has_perm("tracking.change_fraudflag"):
        waiting.append(
            (
                "fraud",
                _("Fraud flags to review"),
                scope_queryset(FraudFlag.objects.filter(status=FraudFlag.Status.OPEN), brand_ids, brand_field="brand"),
                reverse("admin:tracking_fraudflag_changelist") + "?status__exact=open",
            )
        )
    if user.has_perm("claims.change_claim"):
        waiting.append(
            (
                "claims",
                _("Missing-order claims to decide"),
                claim_open_queryset(brand_ids=brand_ids),
                reverse("admin:claims_claim_changelist") + "?status__exact=open",
            )
        )
    if user.has_perm("payments.approve_withdrawal"):
        waiting.append(
            (
                "approve",
                _("Withdrawals to approve"),
                scope_queryset(
                    Withdrawal.objects.filter(status=Withdrawal.Status.REQUESTED), brand_ids, brand_field="brand"
                ),
                reverse("admin:payments_withdrawal_changelist") + "?status__exact=requested",
            )
        )
    if user.has_perm("payments.pay_withdrawal"):
        waiting.append(
            (
                "pay",
                _("Withdrawals to pay"),
                scope_queryset(
                    Withdrawal.objects.filter(status=Withdrawal.Status.APPROVED), brand_ids, brand_field="brand"
                ),
                reverse("admin:payments_withdrawal_changelist") + "?status__exact=approved",
            )
        )
    if user.has_perm("orders.change_discrepancy"):
        waiting.append(
            (
                "discrepancies",
                _("Discrepancies with VTEX to handle"),
                scope_queryset(Discrepancy.objects.filter(resolved=False), brand_ids, brand_field="run__brand"),
                reverse("admin:orders_discrepancy_changelist") + "?resolved__exact=0",
            )
        )
    counts = counts_at_once({key: queryset for key, _label, queryset, _url in waiting})
    return [Queue(key, label, counts[key], url) for key, label, _queryset, url in waiting]
