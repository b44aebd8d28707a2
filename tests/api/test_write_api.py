"""The write API end to end: a brand's system registers an influencer, approves them and
issues a code with a scoped key; scopes, idempotency, errors, pagination and limits."""

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.api_idempotency import idempotency_records_purge
from accounts.models import APIKey, IdempotencyRecord, User
from accounts.services import api_key_create, api_key_rotate
from affiliates.models import Influencer, KYCDocument, Membership
from audit.models import AuditEvent
from campaigns.models import Campaign, CommissionRule
from codes.models import Code
from tests.affiliates.factories import jpeg_bytes, policies_for, upload
from tests.api.conftest import auth
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policies(brand_a: Any) -> Any:
    return policies_for(brand_a)


@pytest.fixture
def campaign(brand_a: Any) -> Campaign:
    return CampaignFactory(brand=brand_a, name="Verano", slug="verano", utm_source="mgm", utm_campaign="verano")


@pytest.fixture
def writer(brand_a: Any) -> str:
    _key, secret = api_key_create(
        brand=brand_a,
        name="CRM",
        scopes=["influencers:read", "influencers:write", "codes:read", "codes:write", "campaigns:read"],
    )
    return secret


def registration(policies: Any, **overrides: Any) -> dict[str, Any]:
    terms, privacy = policies
    data = {
        "full_name": "Camila Rojas",
        "email": "camila@example.com",
        "password": "una-clave-muy-larga-2026",
        "country": "BR",
        "document_type": "BR_CPF",
        "document_number": "529.982.247-25",
        "phone": "+55 11 91234-5678",
        "instagram": "@camilarojas",
        "audience_size": "25000",
        "campaign": "verano",
        "identity_document": upload("rg.jpg", jpeg_bytes(), "image/jpeg"),
        "accept_terms": "true",
        "accept_privacy": "true",
        "terms_policy": str(terms.pk),
        "privacy_policy": str(privacy.pk),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_brand_system_registers_approves_and_issues_a_code(brand_a, policies, campaign, writer):
    client = Client()
    created = client.post("/api/v1/influencers/register", registration(policies), **auth(writer))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending"
    assert body["email"] == "camila@example.com"
    assert body["campaign"] == "verano"
    membership = Membership.objects.get(pk=body["id"])
    assert membership.influencer.document_number == "52998224725"  # normalised by the same rule as the form
    assert KYCDocument.objects.filter(membership=membership).count() == 1
    assert membership.influencer.acceptances.count() == 2
    # the person gets allauth's confirmation email, as from the join page
    assert any("camila@example.com" in m.to for m in mail.outbox)
    event = AuditEvent.objects.get(action="membership.applied", target_id=str(membership.pk))
    assert event.actor_repr == str(event.actor_repr)  # recorded

    approved = client.post(
        f"/api/v1/memberships/{membership.pk}/approve",
        {"campaigns": ["verano"]},
        content_type="application/json",
        **auth(writer),
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert AuditEvent.objects.filter(action="membership.approved", actor_repr__startswith="api-key:").exists()
    # approval issued the campaign's code, the same as the admin action
    assert Code.objects.filter(influencer=membership.influencer, campaign=campaign).count() == 1

    other = CampaignFactory(brand=brand_a, slug="invierno", utm_source="mgm")
    issued = client.post(
        "/api/v1/codes/",
        {"campaign": other.pk, "influencer": membership.influencer_id, "text": "CAMILA15"},
        content_type="application/json",
        **auth(writer),
    )
    assert issued.status_code == 201, issued.content
    assert issued.json()["text"] == "CAMILA15"
    listing = client.get("/api/v1/codes/", {"influencer": membership.influencer_id}, **auth(writer))
    assert {c["campaign"] for c in listing.json()["results"]} == {"verano", "invierno"}


def test_a_key_without_the_scope_gets_403_and_nothing_changes(brand_a, policies, campaign):
    _key, reader = api_key_create(brand=brand_a, name="BI")  # read scopes only
    before = (User.objects.count(), Influencer.objects.count(), Membership.objects.count())
    response = Client().post("/api/v1/influencers/register", registration(policies), **auth(reader))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 403
    assert "influencers:write" in problem["detail"]
    assert (User.objects.count(), Influencer.objects.count(), Membership.objects.count()) == before
    # reading is within its scopes
    assert Client().get("/api/v1/memberships/", **auth(reader)).status_code == 200


def test_the_same_post_with_its_idempotency_key_creates_one_influencer(brand_a, policies, campaign, writer):
    client = Client()
    first = client.post(
        "/api/v1/influencers/register", registration(policies), **auth(writer, **{"Idempotency-Key": "reg-1"})
    )
    again = client.post(
        "/api/v1/influencers/register", registration(policies), **auth(writer, **{"Idempotency-Key": "reg-1"})
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Influencer.objects.count() == 1
    assert Membership.objects.count() == 1

    other = client.post(
        "/api/v1/influencers/register",
        registration(policies, email="otra@example.com"),
        **auth(writer, **{"Idempotency-Key": "reg-1"}),
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Influencer.objects.count() == 1


def test_idempotency_keys_belong_to_one_client(brand_a, brand_b, policies, campaign, writer):
    _key, other_writer = api_key_create(brand=brand_a, name="Other", scopes=["influencers:write"])
    client = Client()
    client.post("/api/v1/influencers/register", registration(policies), **auth(writer, **{"Idempotency-Key": "k"}))
    second = client.post(
        "/api/v1/influencers/register",
        registration(policies, email="x@example.com", document_number="111.444.777-35"),
        **auth(other_writer, **{"Idempotency-Key": "k"}),
    )
    assert second.status_code == 201
    assert Influencer.objects.count() == 2


def test_a_refused_post_is_replayed_not_run_again(brand_a, policies, campaign, writer):
    client = Client()
    bad = registration(policies, document_number="123")
    first = client.post("/api/v1/influencers/register", bad, **auth(writer, **{"Idempotency-Key": "bad-1"}))
    assert first.status_code == 400
    problem = first.json()
    assert problem["code"] == "document_invalid"
    assert problem["errors"][0]["field"] == "document_number"
    again = client.post(
        "/api/v1/influencers/register",
        registration(policies, document_number="123"),
        **auth(writer, **{"Idempotency-Key": "bad-1"}),
    )
    assert again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert Influencer.objects.count() == 0


def test_registration_keeps_the_join_forms_consent_rule(brand_a, policies, campaign, writer):
    response = Client().post(
        "/api/v1/influencers/register", registration(policies, accept_privacy="false"), **auth(writer)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "consent_missing"
    assert Membership.objects.count() == 0


def test_validation_errors_are_problem_details_naming_fields(brand_a, policies, writer):
    response = Client().post(
        "/api/v1/influencers/register", registration(policies, email="not-an-email"), **auth(writer)
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/invalid")
    assert problem["title"] == "Bad Request"
    assert {"field": "email", "code": "invalid"}.items() <= problem["errors"][0].items()


def test_reject_needs_a_reason_and_suspend_archives_codes(brand_a, campaign, writer):
    pending = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="pending")
    client = Client()
    no_reason = client.post(
        f"/api/v1/memberships/{pending.pk}/reject", {"reason": " "}, content_type="application/json", **auth(writer)
    )
    assert no_reason.status_code == 400
    pending.refresh_from_db()
    assert pending.status == "pending"
    rejected = client.post(
        f"/api/v1/memberships/{pending.pk}/reject",
        {"reason": "Audience outside our markets."},
        content_type="application/json",
        **auth(writer),
    )
    assert rejected.status_code == 200
    assert rejected.json()["reason"] == "Audience outside our markets."
    # an illegal move is a 409 with the status machine's message
    suspended = client.post(
        f"/api/v1/memberships/{pending.pk}/suspend", {"reason": "late"}, content_type="application/json", **auth(writer)
    )
    assert suspended.status_code == 409
    assert suspended.json()["code"] == "illegal_transition"

    approved = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="approved")
    code = Code.objects.create(brand=brand_a, campaign=campaign, influencer=approved.influencer, text="ZED10")
    response = client.post(
        f"/api/v1/memberships/{approved.pk}/suspend",
        {"reason": "Broke the guidelines."},
        content_type="application/json",
        **auth(writer),
    )
    assert response.status_code == 200
    code.refresh_from_db()
    assert code.status == Code.Status.ARCHIVED


def test_another_brands_membership_is_not_found(brand_b, writer):
    foreign = MembershipFactory(brand=brand_b, influencer=InfluencerFactory(), status="pending")
    response = Client().post(
        f"/api/v1/memberships/{foreign.pk}/approve", {}, content_type="application/json", **auth(writer)
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "pending"


def test_code_archive(brand_a, campaign, writer, influencer_a):
    code = Code.objects.create(brand=brand_a, campaign=campaign, influencer=influencer_a, text="ARCH10")
    response = Client().post(f"/api/v1/codes/{code.pk}/archive", **auth(writer))
    assert response.status_code == 200
    assert response.json()["status"] == "archived"


def test_campaign_from_template_dates_and_status(brand_a):
    _k, key = api_key_create(brand=brand_a, name="ERP", scopes=["campaigns:read", "campaigns:write"])
    template = CampaignFactory(brand=brand_a, is_template=True, status="draft", name="Base", utm_source="mgm")
    CommissionRule.objects.create(campaign=template, name="All", kind="percentage", rate_percent="10")
    client = Client()
    created = client.post(
        "/api/v1/campaigns/",
        {"template": template.pk, "name": "Summer 2027", "starts_at": "2030-01-01T00:00:00-05:00"},
        content_type="application/json",
        **auth(key, **{"Idempotency-Key": "camp-1"}),
    )
    assert created.status_code == 201, created.content
    campaign = Campaign.objects.get(pk=created.json()["id"])
    assert campaign.template_id == template.pk
    assert campaign.rules.count() == 1
    bad = client.patch(
        f"/api/v1/campaigns/{campaign.pk}/",
        {"ends_at": "2029-01-01T00:00:00Z"},
        content_type="application/json",
        **auth(key),
    )
    assert bad.status_code == 400  # ends before it starts: the model's rule, as in the admin
    campaign.refresh_from_db()
    assert campaign.ends_at is None
    moved = client.patch(
        f"/api/v1/campaigns/{campaign.pk}/",
        {"ends_at": "2030-03-01T00:00:00Z"},
        content_type="application/json",
        **auth(key),
    )
    assert moved.status_code == 200
    scheduled = client.post(
        f"/api/v1/campaigns/{campaign.pk}/status", {"status": "scheduled"}, content_type="application/json", **auth(key)
    )
    assert scheduled.status_code == 200, scheduled.content
    assert scheduled.json()["status"] == "scheduled"


def test_links_create_and_disable(brand_a, campaign, influencer_a):
    _k, key = api_key_create(brand=brand_a, name="CMS", scopes=["links:read", "links:write"])
    client = Client()
    created = client.post(
        "/api/v1/links/",
        {
            "campaign": campaign.pk,
            "influencer": influencer_a.pk,
            "destination_url": f"https://{brand_a.store_domains[0]}/p/1",
        },
        content_type="application/json",
        **auth(key),
    )
    assert created.status_code == 201, created.content
    link_id = created.json()["id"]
    outside = client.post(
        "/api/v1/links/",
        {"campaign": campaign.pk, "influencer": influencer_a.pk, "destination_url": "https://evil.example/"},
        content_type="application/json",
        **auth(key),
    )
    assert outside.status_code == 400
    disabled = client.post(f"/api/v1/links/{link_id}/disable", **auth(key))
    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False


def test_withdrawals_are_read_only(brand_a):
    _k, key = api_key_create(brand=brand_a, name="ERP", scopes=["withdrawals:read"])
    client = Client()
    assert client.get("/api/v1/withdrawals/", **auth(key)).status_code == 200
    assert client.post("/api/v1/withdrawals/", {}, **auth(key)).status_code in (403, 405)


def test_cursor_pagination_and_ordering(brand_a, writer):
    for _ in range(5):
        MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="pending")
    client = Client()
    page = client.get("/api/v1/memberships/", {"page_size": 2}, **auth(writer)).json()
    seen = [m["id"] for m in page["results"]]
    while page["next"]:
        page = client.get(page["next"], **auth(writer)).json()
        seen += [m["id"] for m in page["results"]]
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == 5
    ascending = client.get("/api/v1/memberships/", {"ordering": "id"}, **auth(writer)).json()["results"]
    assert [m["id"] for m in ascending] == sorted(seen)


def test_expired_key_is_refused_and_usage_is_recorded(brand_a):
    key, secret = api_key_create(brand=brand_a, name="BI")
    client = Client()
    assert client.get("/api/v1/brands/", REMOTE_ADDR="203.0.113.9", **auth(secret)).status_code == 200
    key.refresh_from_db()
    assert key.last_used_ip == "203.0.113.9"
    assert key.last_used_at is not None
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get("/api/v1/brands/", **auth(secret))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_rotation_keeps_the_old_key_for_the_overlap(brand_a):
    old, old_secret = api_key_create(brand=brand_a, name="BI", scopes=["brands:read"])
    new, new_secret = api_key_rotate(api_key=old, overlap=timezone.timedelta(hours=1))
    assert new.scopes == ["brands:read"]
    client = Client()
    assert client.get("/api/v1/brands/", **auth(old_secret)).status_code == 200
    assert client.get("/api/v1/brands/", **auth(new_secret)).status_code == 200
    APIKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert client.get("/api/v1/brands/", **auth(old_secret)).status_code == 401
    assert client.get("/api/v1/brands/", **auth(new_secret)).status_code == 200
    assert AuditEvent.objects.filter(action="api_key.rotated").exists()


def test_each_key_has_its_own_rate_limit_with_retry_after(brand_a):
    _k, limited = api_key_create(brand=brand_a, name="Noisy", rate_limit_per_minute=2)
    _k2, other = api_key_create(brand=brand_a, name="Quiet")
    client = Client()
    assert client.get("/api/v1/brands/", **auth(limited)).status_code == 200
    assert client.get("/api/v1/brands/", **auth(limited)).status_code == 200
    throttled = client.get("/api/v1/brands/", **auth(limited))
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["code"] == "throttled"
    assert client.get("/api/v1/brands/", **auth(other)).status_code == 200  # another key is not affected


def test_staff_session_writes_need_the_admins_permission(brand_a, manager_a, verified_client):
    pending = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="pending")
    viewer_client = verified_client(
        __import__("tests.factories", fromlist=["StaffFactory"]).StaffFactory(
            email="viewer@example.com", role="Brand viewer", brands=[brand_a]
        )
    )
    refused = viewer_client.post(f"/api/v1/memberships/{pending.pk}/approve", {}, content_type="application/json")
    assert refused.status_code == 403
    allowed = verified_client(manager_a).post(
        f"/api/v1/memberships/{pending.pk}/approve", {}, content_type="application/json"
    )
    assert allowed.status_code == 200, allowed.content


def test_idempotency_records_are_per_key_and_expire(brand_a, writer, campaign):
    Client().post(f"/api/v1/codes/{0}/archive", **auth(writer, **{"Idempotency-Key": "gone"}))
    assert IdempotencyRecord.objects.count() == 1  # a 404 is an answer too, replayed
    assert idempotency_records_purge(now=timezone.now() + timezone.timedelta(hours=25)) == 1
