"""Health of the coupon sync to VTEX (core.health). Threshold: any code whose sync gave up
(`failed`) pages, as alert CouponSyncFailing does (compose/prometheus/alerts.yml)."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from codes.models import Code
from core.health import Finding, Gauge, ProbeResult, State

SYNC_FAILED = Gauge("mgm_coupon_sync_failed", "Codes whose VTEX coupon sync gave up after its retries", ("brand",))
SYNC_RETRYING = Gauge("mgm_coupon_sync_retrying", "Codes whose VTEX coupon sync is being retried", ("brand",))


def codes_probe() -> ProbeResult:
    result = ProbeResult()
    rows = (
        Code.objects.filter(brand__is_active=True)
        .values("brand__slug")
        .annotate(
            failed=Count("id", filter=Q(sync_status=Code.SyncStatus.FAILED)),
            retrying=Count("id", filter=Q(sync_status=Code.SyncStatus.RETRYING)),
        )
        .order_by("brand__slug")
    )
    for row in rows:
        slug, failed = row["brand__slug"], row["failed"]
        result.read(SYNC_FAILED, failed, slug)
        result.read(SYNC_RETRYING, row["retrying"], slug)
        if failed:
            result.find(
                Finding(
                    _("Coupon sync failing"),
                    State.CRITICAL,
                    ngettext(
                        "%(count)s code is not in VTEX: shoppers cannot use it. Fix the error shown on the "
                        "code and sync it again.",
                        "%(count)s codes are not in VTEX: shoppers cannot use them. Fix the error shown on "
                        "the codes and sync them again.",
                        failed,
                    )
                    % {"count": failed},
                    "CouponSyncFailing",
                    slug,
                )
            )
    return result
