from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from affiliates.models import Membership
from audit.models import AuditEvent
from codes.models import Code
from tests.factories import InfluencerFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:affiliates_membership_changelist"


def change_url(membership: Any) -> str:
    return reverse("admin:affiliates_membership_change", args=[membership.pk])


def kyc_url(document: Any) -> str:
    return reverse("admin:affiliates_membership_kyc", args=[document.membership_id, document.pk])


def test_admin_index_counts_pending_applications_of_my_brands_only(verified_client, manager_a, brand_b, applicant):
    applicant()
    applicant(email="otra@example.com", document="52998224")
    MembershipFactory(brand=brand_b, status="pending")  # another brand's
    response = verified_client(manager_a).get(reverse("admin:index"))
    assert response.status_code == 200
    assert '<strong data-testid="pending-applications">2</strong>' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "?status__exact=pending",
        "?influencer__country__exact=CO",
        "?audience=10k-100k",
        "?audience=gte1m",
        "?q=ana%40example.com",
        "?q=1020304050",
    ],
)
def test_application_list_filters_and_search(verified_client, manager_a, applicant, campaign_a, query):
    applicant()
    response = verified_client(manager_a).get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    expected = 0 if query == "?audience=gte1m" else 1
    assert response.context["cl"].result_count == expected


def test_application_list_filters_by_campaign(verified_client, manager_a, applicant, campaign_a):
    applicant()
    response = verified_client(manager_a).get(reverse(CHANGELIST) + f"?campaign__id__exact={campaign_a.pk}")
    assert response.context["cl"].result_count == 1


def test_managers_never_see_another_brands_applications(verified_client, manager_b, applicant):
    membership = applicant()
    client = verified_client(manager_b)
    assert client.get(reverse(CHANGELIST)).context["cl"].result_count == 0
    assert client.get(change_url(membership)).status_code == 404
    assert client.get(reverse("admin:affiliates_membership_approve", args=[membership.pk])).status_code == 404
    response = client.post(
        reverse("admin:affiliates_membership_reject", args=[membership.pk]), {"reason": "Hostil", "apply": "1"}
    )
    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.status == "pending"


def test_application_page_shows_the_applicant_consents_kyc_and_decisions(verified_client, manager_a, applicant):
    membership = applicant()
    document = membership.kyc_documents.get()
    html = verified_client(manager_a).get(change_url(membership)).content.decode()
    assert "ana@example.com" in html
    assert "1020304050" in html
    assert kyc_url(document) in html
    assert 'data-testid="decision-approve"' in html
    assert 'data-testid="decision-reject"' in html
    assert 'data-testid="decision-suspend"' not in html  # not a legal move from pending


def test_application_page_shows_the_fiscal_id_check_and_possible_duplicates(verified_client, manager_a, applicant):
    first = applicant()
    html = verified_client(manager_a).get(change_url(first)).content.decode()
    assert 'data-testid="fiscal-id-check">✓' in html
    assert "None found (phone, social handles)." in html

    # A second account: same phone (typed without the country code), another document.
    second = applicant(email="ana.t@example.com", document="52998224", instagram="ana_torres_2")
    second.influencer.phone = "300 123 4567"
    second.influencer.save(update_fields=["phone"])
    html = verified_client(manager_a).get(change_url(second)).content.decode()
    assert html.count('data-testid="duplicate-signal"') == 1
    assert "same phone number" in html
    assert "ana@example.com" in html
    assert reverse("admin:affiliates_influencer_change", args=[first.influencer.pk]) in html

    # A number that no longer passes its rules is flagged, not hidden.
    Influencer = type(first.influencer)
    Influencer.objects.filter(pk=first.influencer.pk).update(document_type="BR_CPF", document_number="12345678900")
    html = verified_client(manager_a).get(change_url(first)).content.decode()
    assert 'data-testid="fiscal-id-check">✗' in html


def test_manager_approves_one_application_with_campaigns(
    verified_client, manager_a, applicant, campaign_a, fake_vtex, django_capture_on_commit_callbacks
):
    membership = applicant()
    client = verified_client(manager_a)
    url = reverse("admin:affiliates_membership_approve", args=[membership.pk])
    form_page = client.get(url)
    assert form_page.status_code == 200
    assert campaign_a.name in form_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"campaigns": [campaign_a.pk], "apply": "1"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == "approved"
    assert membership.reviewed_by == manager_a
    assert Code.objects.filter(influencer=membership.influencer, campaign=campaign_a).exists()
    assert any(m.to == ["ana@example.com"] for m in mail.outbox)


def test_bulk_reject_needs_a_reason_then_rejects_all(verified_client, manager_a, applicant):
    first = applicant()
    second = applicant(email="otra@example.com", document="52998224")
    client = verified_client(manager_a)
    data = {"action": "reject_selected", "_selected_action": [first.pk, second.pk]}
    page = client.post(reverse(CHANGELIST), {**data, "index": "0"})
    assert page.status_code == 200  # the reason form
    assert Membership.objects.filter(status="pending").count() == 2
    invalid = client.post(reverse(CHANGELIST), {**data, "apply": "1", "reason": ""})
    assert invalid.status_code == 200
    assert Membership.objects.filter(status="pending").count() == 2
    done = client.post(reverse(CHANGELIST), {**data, "apply": "1", "reason": "Cupo completo este mes"})
    assert done.status_code == 302
    assert set(Membership.objects.values_list("status_reason", flat=True)) == {"Cupo completo este mes"}
    assert Membership.objects.filter(status="rejected").count() == 2


def test_bulk_approve_reports_memberships_that_cannot_move(
    verified_client, manager_a, applicant, brand_a, fake_vtex, django_capture_on_commit_callbacks
):
    pending = applicant()
    blocked = MembershipFactory(brand=brand_a, status="blocked")
    client = verified_client(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CHANGELIST),
            {"action": "approve_selected", "_selected_action": [pending.pk, blocked.pk], "apply": "1"},
            follow=True,
        )
    texts = [str(m) for m in response.context["messages"]]
    assert any("1 membership approved" in t for t in texts)
    assert any("cannot become" in t for t in texts)
    pending.refresh_from_db()
    blocked.refresh_from_db()
    assert (pending.status, blocked.status) == ("approved", "blocked")


def test_kyc_document_is_served_only_to_its_brands_managers(
    verified_client, manager_a, manager_b, finance_a, applicant, client
):
    membership = applicant()
    document = membership.kyc_documents.get()
    response = verified_client(manager_a).get(kyc_url(document))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(action="kyc.document_viewed", target_id=str(document.pk)).exists()

    assert verified_client(manager_b).get(kyc_url(document)).status_code == 404  # another brand
    assert verified_client(finance_a).get(kyc_url(document)).status_code == 404  # no KYC permission
    wrong_parent = reverse("admin:affiliates_membership_kyc", args=[membership.pk + 999, document.pk])
    assert verified_client(manager_a).get(wrong_parent).status_code == 404


def test_kyc_document_needs_a_verified_staff_session(client, manager_a, applicant):
    document = applicant().kyc_documents.get()
    assert client.get(kyc_url(document)).status_code == 302  # anonymous: to the login
    client.force_login(manager_a)  # password only, no second factor
    response = client.get(kyc_url(document))
    assert response.status_code == 302
    influencer = InfluencerFactory()
    client.force_login(influencer.user)
    assert client.get(kyc_url(document)).status_code == 302


def test_staff_cannot_create_or_delete_memberships_in_admin(verified_client, manager_a, applicant):
    membership = applicant()
    client = verified_client(manager_a)
    assert client.get(reverse("admin:affiliates_membership_add")).status_code == 403
    assert (
        client.post(reverse("admin:affiliates_membership_delete", args=[membership.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_policy_versions_are_published_through_the_admin_and_never_edited(
    verified_client, manager_a, brand_a, policies_a
):
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:affiliates_policydocument_add"),
        {
            "brand": brand_a.pk,
            "kind": "terms",
            "version": "2.0",
            "title": "Términos 2",
            "body": "Nuevo texto",
            "published_at_0": "2026-01-01",
            "published_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="policy.published").exists()
    terms = policies_a[0]
    page = client.get(reverse("admin:affiliates_policydocument_change", args=[terms.pk]))
    assert page.status_code == 200
    assert 'name="body"' not in page.content.decode()  # read-only


def test_manager_role_grants_kyc_access(manager_a):
    assert manager_a.has_perm("affiliates.view_kycdocument")
    assert not StaffFactory(email="viewer@example.com", role="Brand viewer").has_perm("affiliates.view_kycdocument")


def test_influencer_profile_is_read_only_in_the_admin(verified_client, manager_a, applicant):
    membership = applicant()
    influencer = membership.influencer
    client = verified_client(manager_a)
    change = reverse("admin:affiliates_influencer_change", args=[influencer.pk])
    page = client.get(change)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="display_name"' not in html
    assert 'name="fiscal_regime"' not in html
    assert client.get(reverse("admin:affiliates_influencer_changelist")).status_code == 200
    client.post(change, {"display_name": "Changed by staff", "fiscal_regime": "x", "audience_size": 1})
    influencer.refresh_from_db()
    assert (influencer.display_name, influencer.fiscal_regime) == ("Ana Torres", "")


def test_bulk_reject_reports_a_translated_sentence(verified_client, manager_a, applicant):
    first = applicant()
    client = verified_client(manager_a)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "reject_selected", "_selected_action": [first.pk], "apply": "1", "reason": "Cupo completo"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "1 application rejected." in [str(m) for m in response.context["messages"]]
