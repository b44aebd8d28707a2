"""Re-consent: a new policy version closes the portal (and so its money actions) until the
influencer accepts it; the acceptance keeps time, version and IP and is audited; managers can
list who has not accepted yet."""

from typing import Any

import pytest
from django.urls import reverse

from affiliates.models import Membership, PolicyAcceptance
from affiliates.services.policies import policy_publish
from audit.models import AuditEvent
from payments.models import Withdrawal

pytestmark = pytest.mark.django_db


def url(name: str, brand: Any, **kwargs: Any) -> str:
    return reverse(f"portal:{name}", kwargs={"brand_slug": brand.slug, **kwargs})


def _new_terms(brand: Any) -> Any:
    return policy_publish(brand=brand, kind="terms", version="2026-12", title="Términos 2026", body="Nuevo texto")


def test_an_influencer_up_to_date_is_not_asked(portal: Any, brand_a: Any) -> None:
    response = portal.get(url("dashboard", brand_a))
    assert response.status_code == 200


def test_a_new_version_blocks_every_page_and_money_action_until_accepted(
    portal: Any, brand_a: Any, approved: Membership
) -> None:
    terms = _new_terms(brand_a)
    page = portal.get(url("earnings", brand_a))
    assert page.status_code == 302
    assert page["Location"].startswith(url("consent", brand_a))
    refused = portal.post(url("withdrawals", brand_a), {"amount": "100"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 204
    assert refused["HX-Redirect"].startswith(url("consent", brand_a))
    assert not Withdrawal.objects.exists()

    shown = portal.get(page["Location"])
    assert b"Nuevo texto" in shown.content
    assert b'data-testid="consent-banner"' in shown.content

    unticked = portal.post(url("consent", brand_a), {"policy_ids": str(terms.pk), "next": url("earnings", brand_a)})
    assert unticked.status_code == 400
    assert not PolicyAcceptance.objects.filter(policy=terms).exists()

    accepted = portal.post(
        url("consent", brand_a),
        {"policy_ids": str(terms.pk), "accept": "on", "next": url("earnings", brand_a)},
        REMOTE_ADDR="203.0.113.9",
    )
    assert accepted.status_code == 302
    assert accepted["Location"] == url("earnings", brand_a)
    acceptance = PolicyAcceptance.objects.get(policy=terms, influencer=approved.influencer)
    assert acceptance.ip == "203.0.113.9"
    audit = AuditEvent.objects.get(action="policy.accepted", target_id=str(acceptance.pk))
    assert audit.after["version"] == "2026-12"
    assert portal.get(url("earnings", brand_a)).status_code == 200


def test_a_version_published_while_reading_must_be_read_too(portal: Any, brand_a: Any, approved: Membership) -> None:
    first = _new_terms(brand_a)
    newer = policy_publish(brand=brand_a, kind="terms", version="2026-12b", title="Términos 2026b", body="Otro texto")
    response = portal.post(url("consent", brand_a), {"policy_ids": str(first.pk), "accept": "on"})
    assert response.status_code == 409
    assert b"newer version" in response.content
    assert not PolicyAcceptance.objects.filter(policy__in=[first, newer]).exists()


def test_an_offsite_next_is_not_followed(portal: Any, brand_a: Any) -> None:
    terms = _new_terms(brand_a)
    response = portal.post(
        url("consent", brand_a), {"policy_ids": str(terms.pk), "accept": "on", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/portal/{brand_a.slug}/"


def test_managers_list_who_has_not_accepted(
    approved: Membership, brand_a: Any, manager_a: Any, verified_client: Any
) -> None:
    _new_terms(brand_a)
    client = verified_client(manager_a)
    listing = reverse("admin:affiliates_membership_changelist")
    missing = client.get(listing, {"consent": "missing"})
    assert approved.influencer.display_name.encode() in missing.content
    done = client.get(listing, {"consent": "accepted"})
    assert approved.influencer.display_name.encode() not in done.content
