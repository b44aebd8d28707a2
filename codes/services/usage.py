"""How many times VTEX saw a code's coupon used."""

from django.utils import timezone

from codes.models import Code
from integrations.vtex import VTEXClient


def code_usage_refresh(*, code_id: int) -> Code:
    """Read how many times VTEX saw the coupon used."""
    code = Code.objects.select_related("brand").get(pk=code_id)
    if code.vtex_state == Code.VTEXState.ABSENT:
        return code
    usage = VTEXClient.for_brand(code.brand).coupon_usage(code.text)
    Code.objects.filter(pk=code.pk).update(usage_count=usage.count, usage_checked_at=timezone.now())
    code.refresh_from_db()
    return code
