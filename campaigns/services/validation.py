"""What every campaigns write validates with, and the error it raises."""

from collections.abc import Sequence

from django.db.models import Model

from core.errors import ApplicationError, full_clean_or_raise


class CampaignInvalid(ApplicationError):
    default_code = "campaign_invalid"


def campaign_full_clean(instance: Model, *, exclude: Sequence[str] = ()) -> None:
    full_clean_or_raise(instance, exclude=exclude, error_class=CampaignInvalid)
