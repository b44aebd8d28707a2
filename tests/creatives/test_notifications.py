"""A new piece in a campaign's library tells the influencers who see it there (approved by the
brand, assigned to the campaign), in the portal now and by email in the daily summary; nobody
else hears of it, and a piece of a campaign being prepared tells no one yet."""

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from affiliates.models import Membership
from creatives.services import creative_create
from notifications.messages import notification_message
from notifications.models import Notification
from tests.creatives.conftest import member
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _caption(campaign: Any, title: str = "Texto reel") -> Any:
    return creative_create(campaign=campaign, kind="caption", title=title, caption="Usa {code} en {brand}")


def test_a_new_piece_tells_the_campaigns_influencers_and_no_one_else(
    brand_a: Any, campaign_a: Any, ana: Any, bruno: Any, carla: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pending = member(brand_a, campaign_a, "Paula Pendiente")
    pending.status = Membership.Status.PENDING
    pending.save(update_fields=["status"])
    suspended = member(brand_a, campaign_a, "Sara Suspendida")
    suspended.status = Membership.Status.SUSPENDED
    suspended.save(update_fields=["status"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        creative = _caption(campaign_a)

    told = Notification.objects.filter(event="creative.published")
    # Ana is approved and in the campaign; Bruno is in another campaign, Carla with another
    # brand, Paula not approved yet, Sara suspended (her library is closed).
    assert list(told.values_list("influencer_id", flat=True)) == [ana.influencer_id]
    notification = told.get()
    assert notification.kind == "creative"
    assert notification.key == f"creative.published:{creative.pk}"
    assert notification.url == reverse("portal:creatives", kwargs={"brand_slug": brand_a.slug})
    assert notification.email == Notification.Email.PENDING  # in the daily summary, not now
    assert mail.outbox == []


def test_the_message_reads_in_each_language(brand_a: Any, campaign_a: Any, ana: Any) -> None:
    _caption(campaign_a, title="Foto playa")
    params = Notification.objects.get(event="creative.published").params
    expected = {
        "en": f"{brand_a.name} shared new material: Foto playa",
        "es": f"{brand_a.name} compartió material nuevo: Foto playa",
        "pt-br": f"{brand_a.name} compartilhou material novo: Foto playa",
    }
    for language, title in expected.items():
        with translation.override(language):
            message = notification_message(event="creative.published", params=params, brand=brand_a.name)
        assert message.title == title
        assert campaign_a.name in message.body


def test_a_piece_of_a_campaign_in_preparation_tells_no_one(brand_a: Any) -> None:
    draft = CampaignFactory(brand=brand_a, name="Borrador", slug="borrador", status="draft")
    member(brand_a, draft, "Dora Draft")
    _caption(draft)
    assert not Notification.objects.filter(event="creative.published").exists()
