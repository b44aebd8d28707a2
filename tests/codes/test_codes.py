from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from affiliates.assignments import campaign_unassign_influencer
from audit.models import AuditEvent
from campaigns.services.status import campaign_status_change
from campaigns.services.variants import VariantInput, campaign_variants_set
from codes.models import Code
from codes.selectors import code_get_by_text, code_list_for_influencer
from codes.services import sync
from codes.services.archiving import (
    code_archive,
    code_unarchive,
    codes_archive_for_influencer,
    codes_unarchive_for_influencer,
)
from codes.services.code_settings import code_update_settings
from codes.services.issuing import code_create, codes_issue_for_influencer
from codes.services.sync import code_sync, code_sync_request, codes_sync_due
from codes.services.text import CodeInvalid, CodeTaken
from codes.services.usage import code_usage_refresh
from core.errors import Conflict
from tests.campaigns.factories import RunnableCampaignFactory
from tests.factories import InfluencerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(brand_a):
    return RunnableCampaignFactory(brand=brand_a, name="Lanzamiento", utm_source="mgm", utm_campaign="lanzamiento")


def approved(brand, **influencer):
    return MembershipFactory(brand=brand, influencer=InfluencerFactory(**influencer), status="approved").influencer


# --- Generation -----------------------------------------------------------------------------


def test_code_is_generated_from_the_handle_and_discount(campaign, brand_a):
    influencer = approved(brand_a, handle="@maría.gómez_", display_name="María")
    code = code_create(campaign=campaign, influencer=influencer)
    assert code.text == "MARIAGOMEZ10"
    assert code.origin == "generated"
    assert code.status == "active"
    assert code.discount_percent == Decimal(10)
    assert (code.max_usage, code.max_items_per_client) == (campaign.code_max_usage, campaign.code_max_items_per_client)
    assert code.sync_status == "pending"


def test_generation_is_collision_safe_within_the_brand(campaign, brand_a, brand_b):
    first = code_create(campaign=campaign, influencer=approved(brand_a, handle="ana"))
    second = code_create(campaign=campaign, influencer=approved(brand_a, handle="ANA"))
    assert first.text == "ANA10"
    assert second.text.startswith("ANA10-")
    assert len(second.text) == len("ANA10-XXX")
    other_brand = RunnableCampaignFactory(brand=brand_b)
    assert code_create(campaign=other_brand, influencer=approved(brand_b, handle="ana")).text == "ANA10"


def test_handle_less_influencers_get_a_code_from_their_name(campaign, brand_a):
    code = code_create(campaign=campaign, influencer=approved(brand_a, handle="", display_name="Zoë Ñandú"))
    assert code.text == "ZOENANDU10"


def test_manager_chosen_code_is_validated_and_normalised(campaign, brand_a):
    code = code_create(campaign=campaign, influencer=approved(brand_a), text=" verano-ana ")
    assert (code.text, code.origin) == ("VERANO-ANA", "chosen")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AB", "4 to 30 characters"),
        ("A" * 31, "4 to 30 characters"),
        ("SUMMER SALE", "Use only letters"),
        ("-ANA1", "Use only letters"),
        ("AÑO2026", "Use only letters"),
    ],
)
def test_bad_chosen_codes_are_refused(campaign, brand_a, text, message):
    influencer = approved(brand_a)
    with pytest.raises(CodeInvalid, match=message):
        code_create(campaign=campaign, influencer=influencer, text=text)
    assert not Code.objects.exists()


def test_chosen_code_taken_in_any_case_is_refused(campaign, brand_a):
    code_create(campaign=campaign, influencer=approved(brand_a), text="PROMO10")
    other = approved(brand_a)
    with pytest.raises(CodeTaken, match="already used"):
        code_create(campaign=campaign, influencer=other, text="promo10")
    assert Code.objects.count() == 1


def test_database_refuses_case_insensitive_duplicates(campaign, brand_a):
    code = code_create(campaign=campaign, influencer=approved(brand_a), text="PROMO10")
    other_campaign = RunnableCampaignFactory(brand=brand_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Code.objects.create(brand=brand_a, campaign=other_campaign, influencer=code.influencer, text="promo10")


def test_code_get_by_text_is_case_insensitive_and_brand_scoped(campaign, brand_a, brand_b):
    code = code_create(campaign=campaign, influencer=approved(brand_a), text="INFLU-MARIA10")
    assert code_get_by_text(brand=brand_a, text="influ-maria10 ") == code
    assert code_get_by_text(brand=brand_b, text="INFLU-MARIA10") is None
    assert code_get_by_text(brand=brand_a, text="") is None


# --- Issue ----------------------------------------------------------------------------------


def test_issue_is_idempotent_one_code_per_campaign(brand_a, campaign, manager_a):
    second = RunnableCampaignFactory(brand=brand_a)
    influencer = approved(brand_a, handle="lucia")
    codes = codes_issue_for_influencer(
        brand=brand_a, influencer=influencer, campaigns=[campaign, second], actor=manager_a
    )
    again = codes_issue_for_influencer(
        brand=brand_a, influencer=influencer, campaigns=[campaign, second], actor=manager_a
    )
    assert [c.pk for c in codes] == [c.pk for c in again]
    assert Code.objects.filter(influencer=influencer).count() == 2
    assert codes[0].text == "LUCIA10"
    assert codes[1].text.startswith("LUCIA10-")
    # without campaigns: every active campaign they take part in
    assert {c.pk for c in codes_issue_for_influencer(brand=brand_a, influencer=influencer)} == {c.pk for c in codes}
    assert list(code_list_for_influencer(influencer=influencer, brand=brand_a)) == sorted(
        codes, key=lambda c: (-c.campaign.starts_at.timestamp(), c.text)
    )


def test_issue_joins_open_campaigns_only(brand_a):
    open_campaign = RunnableCampaignFactory(brand=brand_a, open_to_all=True)
    RunnableCampaignFactory(brand=brand_a, open_to_all=False)
    RunnableCampaignFactory(brand=brand_a, open_to_all=True, status="paused")
    influencer = approved(brand_a)
    codes = codes_issue_for_influencer(brand=brand_a, influencer=influencer)
    assert [c.campaign_id for c in codes] == [open_campaign.pk]


def test_issue_refuses_unapproved_influencers_and_other_brands_campaigns(brand_a, brand_b, campaign):
    pending = MembershipFactory(brand=brand_a, status="pending").influencer
    with pytest.raises(Conflict, match="approve them"):
        codes_issue_for_influencer(brand=brand_a, influencer=pending, campaigns=[campaign])
    influencer = approved(brand_a)
    with pytest.raises(Exception, match="Choose campaigns of"):
        codes_issue_for_influencer(
            brand=brand_a, influencer=influencer, campaigns=[RunnableCampaignFactory(brand=brand_b)]
        )
    assert not Code.objects.exists()


def test_code_records_the_variant_and_its_discount(brand_a):
    campaign = RunnableCampaignFactory(brand=brand_a)
    campaign_variants_set(
        campaign=campaign, variants=[VariantInput("A", 50), VariantInput("B", 50, discount_percent=Decimal(20))]
    )
    for _i in range(8):
        code = codes_issue_for_influencer(brand=brand_a, influencer=approved(brand_a), campaigns=[campaign])[0]
        assignment = campaign.assignments.get(influencer=code.influencer)
        assert code.variant_id == assignment.variant_id
        assert code.discount_percent == (Decimal(20) if code.variant.key == "B" else Decimal(10))


# --- Status follows influencer and campaign -------------------------------------------------


def test_suspension_archives_and_reapproval_brings_back(brand_a, campaign):
    influencer = approved(brand_a)
    code = codes_issue_for_influencer(brand=brand_a, influencer=influencer, campaigns=[campaign])[0]
    version = code.sync_version
    codes_archive_for_influencer(brand=brand_a, influencer=influencer)
    code.refresh_from_db()
    assert (code.status, code.status_reason, code.sync_status) == (
        "archived",
        "influencer is not approved with the brand",
        "pending",
    )
    assert code.sync_version == version + 1
    codes_unarchive_for_influencer(brand=brand_a, influencer=influencer)
    code.refresh_from_db()
    assert code.status == "active"
    assert AuditEvent.objects.filter(action="code.status_changed", target_id=str(code.pk)).count() == 2


def test_unarchive_keeps_codes_of_paused_campaigns_archived(brand_a, campaign):
    influencer = approved(brand_a)
    code = codes_issue_for_influencer(brand=brand_a, influencer=influencer, campaigns=[campaign])[0]
    codes_archive_for_influencer(brand=brand_a, influencer=influencer)
    campaign_status_change(campaign=campaign, to_status="paused")
    codes_unarchive_for_influencer(brand=brand_a, influencer=influencer)
    code.refresh_from_db()
    assert code.status == "archived"
    assert code.status_reason.startswith("campaign is")


def test_campaign_pause_end_and_unassign_archive_codes(brand_a, campaign):
    a, b = approved(brand_a), approved(brand_a)
    code_a = codes_issue_for_influencer(brand=brand_a, influencer=a, campaigns=[campaign])[0]
    code_b = codes_issue_for_influencer(brand=brand_a, influencer=b, campaigns=[campaign])[0]
    campaign_unassign_influencer(campaign=campaign, influencer=a)
    assert Code.objects.get(pk=code_a.pk).status == "archived"
    assert Code.objects.get(pk=code_b.pk).status == "active"
    campaign_status_change(campaign=campaign, to_status="paused")
    assert Code.objects.get(pk=code_b.pk).status == "archived"
    campaign_status_change(campaign=campaign, to_status="active")
    assert Code.objects.get(pk=code_b.pk).status == "active"
    assert Code.objects.get(pk=code_a.pk).status == "archived"
    campaign_status_change(campaign=campaign, to_status="ended")
    assert set(Code.objects.values_list("status", flat=True)) == {"archived"}


def test_manual_archive_sticks_until_a_manager_brings_it_back(brand_a, campaign, manager_a):
    influencer = approved(brand_a)
    code = codes_issue_for_influencer(brand=brand_a, influencer=influencer, campaigns=[campaign])[0]
    code_archive(code=code, actor=manager_a)
    codes_unarchive_for_influencer(brand=brand_a, influencer=influencer)
    campaign_status_change(campaign=campaign, to_status="paused")
    campaign_status_change(campaign=campaign, to_status="active")
    assert Code.objects.get(pk=code.pk).status == "archived"
    code_unarchive(code=code, actor=manager_a)
    assert Code.objects.get(pk=code.pk).status == "active"


def test_a_code_cannot_be_brought_back_while_its_campaign_is_paused(brand_a, campaign):
    code = codes_issue_for_influencer(brand=brand_a, influencer=approved(brand_a), campaigns=[campaign])[0]
    campaign_status_change(campaign=campaign, to_status="paused")
    with pytest.raises(Conflict, match="cannot be active now"):
        code_unarchive(code=code)
    assert Code.objects.get(pk=code.pk).status == "archived"


# --- Sync to VTEX ---------------------------------------------------------------------------


def issue_and_sync(brand, campaign, django_capture_on_commit_callbacks, **influencer):
    with django_capture_on_commit_callbacks(execute=True):
        code = codes_issue_for_influencer(brand=brand, influencer=approved(brand, **influencer), campaigns=[campaign])[
            0
        ]
    code.refresh_from_db()
    return code


def test_issued_code_is_synced_to_vtex_after_commit(brand_a, campaign, fake_vtex, django_capture_on_commit_callbacks):
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks, handle="maria")
    assert code.sync_status == "synced"
    assert code.vtex_state == "active"
    assert code.synced_version == code.sync_version
    assert code.last_synced_at is not None
    assert code.last_sync_error == ""
    assert fake_vtex.coupons["MARIA10"] | {"lastModifiedUtc": None} == {
        "lastModifiedUtc": None,
        "utmSource": "mgm",
        "utmCampaign": "lanzamiento",
        "couponCode": "MARIA10",
        "isArchived": False,
        "maxItemsPerClient": campaign.code_max_items_per_client,
        "expirationIntervalPerUse": "00:00:00",
        "maxUsage": campaign.code_max_usage,
    }


def test_nothing_reaches_vtex_when_the_transaction_rolls_back(
    brand_a, campaign, fake_vtex, django_capture_on_commit_callbacks
):

    influencer = approved(brand_a)

    def issue_then_fail():
        with transaction.atomic():
            codes_issue_for_influencer(brand=brand_a, influencer=influencer, campaigns=[campaign])
            raise RuntimeError("boom")

    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(RuntimeError):
        issue_then_fail()
    assert callbacks == []
    assert fake_vtex.requests == []
    assert not Code.objects.exists()


def test_archive_and_unarchive_reach_vtex(brand_a, campaign, fake_vtex, django_capture_on_commit_callbacks):
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks, handle="joao")
    with django_capture_on_commit_callbacks(execute=True):
        codes_archive_for_influencer(brand=brand_a, influencer=code.influencer)
    assert fake_vtex.coupons["JOAO10"]["isArchived"] is True
    assert Code.objects.get(pk=code.pk).vtex_state == "archived"
    with django_capture_on_commit_callbacks(execute=True):
        codes_unarchive_for_influencer(brand=brand_a, influencer=code.influencer)
    assert fake_vtex.coupons["JOAO10"]["isArchived"] is False
    # Unarchived, then updated the documented way: get the whole coupon, post it back edited.
    assert [r.path for r in fake_vtex.requests][-3:] == [
        "/api/rnb/pvt/unarchive/coupon/JOAO10",
        "/api/rnb/pvt/coupon/JOAO10",
        "/api/rnb/pvt/coupon",
    ]
    code.refresh_from_db()
    assert (code.vtex_state, code.sync_status) == ("active", "synced")


def test_code_that_never_reached_vtex_is_archived_without_calls(brand_a, campaign, fake_vtex):
    code = codes_issue_for_influencer(brand=brand_a, influencer=approved(brand_a), campaigns=[campaign])[0]
    codes_archive_for_influencer(brand=brand_a, influencer=code.influencer)
    code = code_sync(code_id=code.pk)
    assert (code.sync_status, code.vtex_state) == ("synced", "")
    assert fake_vtex.requests == []


def test_settings_change_is_pushed(brand_a, campaign, fake_vtex, django_capture_on_commit_callbacks, manager_a):
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks, handle="bia")
    with django_capture_on_commit_callbacks(execute=True):
        code_update_settings(code=code, max_usage=5, max_items_per_client=2, actor=manager_a)
    assert fake_vtex.coupons["BIA10"]["maxUsage"] == 5
    assert fake_vtex.coupons["BIA10"]["maxItemsPerClient"] == 2
    with pytest.raises(CodeInvalid, match="hours:minutes:seconds"):
        code_update_settings(code=code, expiration_interval_per_use="1 day")
    assert Code.objects.get(pk=code.pk).expiration_interval_per_use == "00:00:00"


def test_a_400_fails_at_once_with_vtex_message_and_alerts_managers(
    brand_a, campaign, fake_vtex, manager_a, manager_b, django_capture_on_commit_callbacks
):
    fake_vtex.fail_next(
        1,
        400,
        body={
            "error": {"": ["The coupon utmSource does not match an active promotion."]},
            "title": "One or more validation errors occurred.",
            "status": 400,
        },
    )
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks, handle="rui")
    assert code.sync_status == "failed"
    assert code.sync_attempts == 1
    assert code.next_sync_at is None
    assert "VTEX answered 400" in code.last_sync_error
    assert "does not match an active promotion" in code.last_sync_error
    assert len(fake_vtex.requests_to("/api/rnb/pvt/coupon")) == 1
    assert [m.to for m in mail.outbox] == [[manager_a.email]]
    assert "RUI10" in mail.outbox[0].subject
    assert "does not match an active promotion" in mail.outbox[0].body


def test_transient_failures_are_retried_with_backoff_then_alert(
    brand_a, campaign, fake_vtex, settings, manager_a, django_capture_on_commit_callbacks
):
    settings.CODES_SYNC_MAX_ATTEMPTS = 3
    fake_vtex.fail_next(100, 503)
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks, handle="eva")
    assert (code.sync_status, code.sync_attempts) == ("retrying", 1)
    assert 30 <= (code.next_sync_at - timezone.now()).total_seconds() <= 60
    assert mail.outbox == []

    # Beat: nothing due yet; then due after the backoff
    assert codes_sync_due() == 0
    later = code.next_sync_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert codes_sync_due(now=later) == 1
    code.refresh_from_db()
    assert (code.sync_status, code.sync_attempts) == ("retrying", 2)
    assert code.next_sync_at > later  # backoff grows
    with django_capture_on_commit_callbacks(execute=True):
        code = code_sync(code_id=code.pk)
    assert (code.sync_status, code.sync_attempts) == ("failed", 3)
    assert "VTEX answered 503" in code.last_sync_error
    assert [m.to for m in mail.outbox] == [[manager_a.email]]

    # "sync again" starts over and succeeds once VTEX is back
    fake_vtex._script.clear()
    with django_capture_on_commit_callbacks(execute=True):
        code_sync_request(code=code, actor=manager_a)
    code.refresh_from_db()
    assert (code.sync_status, code.sync_attempts, code.last_sync_error) == ("synced", 0, "")
    assert "EVA10" in fake_vtex.coupons


def test_missing_credentials_fail_without_calls_or_alerts(
    brand_a, campaign, fake_vtex, manager_a, django_capture_on_commit_callbacks
):
    brand_a.vtex_app_token = ""
    brand_a.save()
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks)
    assert code.sync_status == "failed"
    assert "no VTEX app key and token" in code.last_sync_error
    assert fake_vtex.requests == []
    assert mail.outbox == []


def test_missing_utm_source_is_explained(brand_a, fake_vtex, django_capture_on_commit_callbacks):
    campaign = RunnableCampaignFactory(brand=brand_a, utm_source="")
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks)
    assert code.sync_status == "failed"
    assert "has no utm_source" in code.last_sync_error
    assert fake_vtex.requests == []


def test_a_sync_that_finishes_after_a_newer_change_does_not_mark_it_synced(brand_a, campaign, fake_vtex, monkeypatch):
    """A manager changes the code while the worker is talking to VTEX: the worker's result must
    not hide the newer change, whose own sync is queued."""

    code = codes_issue_for_influencer(brand=brand_a, influencer=approved(brand_a), campaigns=[campaign])[0]
    first_version = code.sync_version
    original_push = sync._push

    def push_while_a_change_lands(c):
        state = original_push(c)
        Code.objects.filter(pk=c.pk).update(sync_version=first_version + 1, max_usage=7)
        return state

    monkeypatch.setattr(sync, "_push", push_while_a_change_lands)
    code = code_sync(code_id=code.pk)
    assert code.sync_status == "pending"
    assert code.synced_version < code.sync_version
    assert code.vtex_state == "active"

    monkeypatch.setattr(sync, "_push", original_push)
    code = code_sync(code_id=code.pk)
    assert (code.sync_status, code.synced_version) == ("synced", first_version + 1)
    assert fake_vtex.coupons[code.text]["maxUsage"] == 7


def test_usage_count_is_read_from_vtex(brand_a, campaign, fake_vtex, django_capture_on_commit_callbacks):
    code = issue_and_sync(brand_a, campaign, django_capture_on_commit_callbacks, handle="ines")
    fake_vtex.add_coupon_usage("INES10", order_id="1-01")
    fake_vtex.add_coupon_usage("INES10", order_id="2-01", profile_id="other")
    code = code_usage_refresh(code_id=code.pk)
    assert code.usage_count == 2
    assert code.usage_checked_at is not None
