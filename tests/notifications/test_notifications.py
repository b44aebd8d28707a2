"""Told when money moves: confirmed and reversed commissions become one notification each and
one summary email a day, in the influencer's language and with the brand's name; withdrawals
and membership decisions are emailed at once unless the influencer chose otherwise."""

from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from affiliates.services.decisions import membership_suspend
from affiliates.services.policies import policy_publish
from notifications.models import Notification
from notifications.services import notification_preference_update, notifications_digest_send
from orders.services import order_apply
from payments.services import withdrawal_reject, withdrawal_request_create
from tests.factories import MembershipFactory
from tests.orders.conftest import order_doc

pytestmark = pytest.mark.django_db


def _spanish(influencer: Any) -> None:
    influencer.user.preferred_language = "es"
    influencer.user.save(update_fields=["preferred_language"])


def test_confirmed_and_reversed_commissions_make_one_notice_each_and_one_daily_email_in_spanish(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    _spanish(maria)
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=brand, data=order_doc(), source="t")
        order_apply(brand=brand, data=order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"), source="t")
    confirmed = Notification.objects.filter(influencer=maria, event="commission.confirmed")
    assert confirmed.count() == 3  # one per commission line
    assert mail.outbox == []  # commission news waits for the daily summary
    assert set(confirmed.values_list("email", flat=True)) == {"pending"}

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_digest_send() == 1
    [email] = mail.outbox
    assert email.to == [maria.user.email]
    assert email.subject.startswith("[Acme] Acme: ")
    assert "Acme <" in email.from_email
    assert "Comisión confirmada" in email.body  # Maria reads Spanish
    assert "1415461749731-01" in email.body  # the VTEX order, not an internal reference
    assert "example.com" not in email.body
    assert "example.com" not in email.alternatives[0][0]
    assert not Notification.objects.filter(email="pending").exists()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=brand, data=order_doc(status="canceled", last_change="2024-02-06T10:00:00+00:00"), source="t")
    assert Notification.objects.filter(influencer=maria, event="commission.reversed").count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_digest_send() == 1
        assert notifications_digest_send() == 0  # a second run sends nothing again
    [email] = mail.outbox
    assert "Comisión revertida" in email.body


def test_an_order_seen_twice_does_not_notify_twice(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    invoiced = order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00")
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=brand, data=invoiced, source="t")
        order_apply(brand=brand, data=invoiced, source="t")
    assert Notification.objects.filter(influencer=maria, event="commission.confirmed").count() == 3


def test_a_withdrawal_is_emailed_at_once_and_a_rolled_back_one_tells_nobody(
    brand_a: Any, funded: Any, finance_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def request_then_fail() -> None:
        with transaction.atomic():
            withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        request_then_fail()
    assert not Notification.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
        withdrawal_reject(withdrawal=withdrawal, actor=finance_a, reason="Datos bancarios incompletos")
    events = list(Notification.objects.filter(influencer=funded).order_by("pk").values_list("event", "email"))
    assert events == [("withdrawal.requested", "sent"), ("withdrawal.rejected", "sent")]
    assert [m.to for m in mail.outbox] == [[funded.user.email]] * 2
    assert "Datos bancarios incompletos" in mail.outbox[1].body
    assert mail.outbox[1].subject.startswith("[Acme] ")


def test_preferences_switch_email_off_or_into_the_daily_summary(
    brand_a: Any, funded: Any, finance_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    notification_preference_update(influencer=funded, email_off=["withdrawal"], daily_digest=False)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    assert mail.outbox == []
    assert Notification.objects.get(influencer=funded).email == "none"  # still in the portal

    notification_preference_update(influencer=funded, email_off=[], daily_digest=True)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal_reject(withdrawal=withdrawal, actor=finance_a, reason="Fuera de plazo")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notifications_digest_send()
    [email] = mail.outbox
    assert "Fuera de plazo" in email.body


def test_a_membership_decision_and_a_new_policy_reach_the_influencer(
    brand_a: Any, influencer_a: Any, manager_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    membership = influencer_a.memberships.get(brand=brand_a)
    outsider = MembershipFactory(status="pending")  # another brand's applicant hears nothing
    with django_capture_on_commit_callbacks(execute=True):
        membership_suspend(membership=membership, actor=manager_a, reason="Contenido fuera de la marca")
        policy_publish(brand=brand_a, kind="terms", version="2", title="Términos v2", body="Texto", actor=manager_a)
    events = set(Notification.objects.filter(influencer=influencer_a).values_list("event", flat=True))
    assert events == {"influencer.suspended", "policy.published"}
    assert not Notification.objects.filter(influencer=outsider.influencer).exists()
    assert len([m for m in mail.outbox if m.to == [influencer_a.user.email]]) == 2


def test_the_centre_shows_unread_and_marks_them_read(
    client: Any, brand_a: Any, funded: Any, django_capture_on_commit_callbacks: Any
) -> None:
    withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    someone_else = MembershipFactory(brand=brand_a).influencer
    notification_preference_update(influencer=someone_else, email_off=[], daily_digest=False)
    client.force_login(funded.user)
    page = client.get(reverse("portal:dashboard", kwargs={"brand_slug": "acme"}))
    assert b'data-testid="unread-badge">1<' in page.content
    centre = client.get(reverse("portal:notifications", kwargs={"brand_slug": "acme"}))
    assert b"Withdrawal W-" in centre.content
    notification = Notification.objects.get(influencer=funded)

    response = client.post(
        reverse("portal:notification_read", kwargs={"brand_slug": "acme", "pk": notification.pk}),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b'id="notification-centre"' in response.content
    assert b"<html" not in response.content  # the partial, swapped in place
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_someone_elses_notification_cannot_be_marked_read(client: Any, brand_a: Any, funded: Any) -> None:
    withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    intruder = MembershipFactory(brand=brand_a).influencer
    client.force_login(intruder.user)
    notification = Notification.objects.get(influencer=funded)
    client.post(reverse("portal:notification_read", kwargs={"brand_slug": "acme", "pk": notification.pk}))
    notification.refresh_from_db()
    assert notification.read_at is None


def test_preferences_are_saved_from_the_portal(client: Any, brand_a: Any, influencer_a: Any) -> None:
    client.force_login(influencer_a.user)
    url = reverse("portal:notifications", kwargs={"brand_slug": "acme"})
    response = client.post(url, {"email_on": ["application", "commission"], "daily_digest": "on"}, follow=True)
    assert b"Your email preferences were saved." in response.content
    preference = influencer_a.notification_preference
    assert sorted(preference.email_off) == ["claim", "creative", "policy", "withdrawal"]
    assert preference.daily_digest is True
