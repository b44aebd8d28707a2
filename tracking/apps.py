from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from core import events


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = _("Tracking and fraud")

    def ready(self) -> None:
        # Cache invalidation only (no domain logic): a change to what a cached link entry holds
        # drops the entries after commit, so the redirect never serves a stale decision for long.

        from tracking.handlers import on_membership_changed  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        # Approval issues a default link per campaign, as it issues a code (affiliates sits
        # below tracking, so it announces the change and we act on it).
        events.subscribe("membership.changed", on_membership_changed)

        for label, field in (
            ("campaigns.Campaign", "campaign"),
            ("brands.Brand", "brand"),
            ("affiliates.Influencer", "influencer"),
            ("affiliates.Membership", None),
            ("tracking.AttributionPolicy", None),
        ):
            model = apps.get_model(label)
            post_save.connect(_invalidate_receiver(field), sender=model, weak=False, dispatch_uid=f"trk-cache-{label}")


def _invalidate_receiver(field: str | None) -> Any:
    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        from tracking.link_cache import link_cache_invalidate_on_commit  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        if field is not None:
            link_cache_invalidate_on_commit(**{field: instance})
        elif sender._meta.label == "affiliates.Membership":
            link_cache_invalidate_on_commit(influencer=instance.influencer_id, brand=instance.brand_id)
        else:
            link_cache_invalidate_on_commit(campaign=instance.campaign_id)

    return receiver
