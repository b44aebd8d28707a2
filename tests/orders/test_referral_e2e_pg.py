"""Member-get-member end to end on PostgreSQL: Ana recruits Maria through her recruiting link on
the join page; Maria is approved (code issued) and sells with her coupon through the VTEX hook;
Ana earns her share when the order is confirmed, and both commissions reverse when it is
cancelled. A self-referral through a shared payout account earns nothing and raises a flag.
Plus the lock test of the capped second level."""

import json
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse

from affiliates.models import KYCDocument, Membership, Referral
from affiliates.referrals import recruiting_link_get, referral_record
from affiliates.selectors import policy_current_pair
from affiliates.services.decisions import membership_approve
from affiliates.services.payout_accounts import PayoutData, payout_account_update
from campaigns.models import ReferralProgram
from codes.models import Code
from commissions.models import Commission, ReferralCommission
from orders.services import order_apply
from tests.affiliates.factories import jpeg_bytes, policies_for, upload
from tests.factories import InfluencerFactory, MembershipFactory
from tests.orders.conftest import hook_payload, influencer_balances, order_doc
from tracking.models import FraudFlag

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
HOOK_URL = "/api/v1/webhooks/vtex/acme/orders/"
STARTED = datetime(2024, 1, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _private_media(tmp_path: Any, monkeypatch: Any) -> None:
    storage = FileSystemStorage(location=str(tmp_path), base_url=None)
    monkeypatch.setattr(KYCDocument._meta.get_field("file"), "storage", storage)


def _join_with_link(client: Client, *, brand: Any, campaign: Any, token: str, email: str, document: str) -> None:
    terms, privacy = policies_for(brand) if not brand.policies.exists() else _current(brand)
    url = reverse("affiliates:join", kwargs={"brand_slug": brand.slug})
    assert client.get(f"{url}?ref={token}&campaign={campaign.slug}").status_code == 200
    response = client.post(
        url,
        {
            "full_name": "Maria Campos",
            "email": email,
            "password1": "una-clave-muy-larga-2026",
            "password2": "una-clave-muy-larga-2026",
            "country": "CO",
            "document_type": "CO_CC",
            "document_number": document,
            "phone": "+57 300 123 4567",
            "instagram": "@mariacampos",
            "audience_size": "12000",
            "accept_terms": "on",
            "accept_privacy": "on",
            "terms_policy": str(terms.pk),
            "privacy_policy": str(privacy.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # Step 2 of the join page: the campaign and the identity document.
    response = client.post(
        url, {"campaign": str(campaign.pk), "identity_document": upload("id.jpg", jpeg_bytes(), "image/jpeg")}
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _current(brand: Any) -> tuple[Any, Any]:
    return policy_current_pair(brand=brand)


def _hook(client: Client, brand: Any, **kwargs: Any) -> None:
    body = json.dumps(hook_payload(**kwargs))
    response = client.post(HOOK_URL, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=brand.hook_token)
    assert response.status_code == 200


def test_ana_refers_maria_who_sells_then_the_order_is_cancelled(brand_a: Any, campaign_a: Any, fake_oms: Any) -> None:
    ReferralProgram.objects.create(campaign=campaign_a, enabled=True, rate_percent=Decimal("10"), months=36)
    ana = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana")).influencer
    link = recruiting_link_get(influencer=ana, campaign=campaign_a)

    _join_with_link(
        Client(), brand=brand_a, campaign=campaign_a, token=link.token, email="maria@example.com", document="52123456"
    )
    referral = Referral.objects.get()
    assert (referral.referrer_id, referral.referred.user.email, referral.status) == (
        ana.pk,
        "maria@example.com",
        "active",
    )
    Referral.objects.filter(pk=referral.pk).update(started_at=STARTED)  # the VTEX sample order is from 2024
    maria = referral.referred

    membership_approve(membership=Membership.objects.get(influencer=maria), campaigns=[campaign_a])
    code = Code.objects.get(influencer=maria, campaign=campaign_a)
    client = Client()
    fake_oms.add_order(order_doc(coupon=code.text))
    _hook(client, brand_a)
    invoiced = order_doc(coupon=code.text, status="invoiced", last_change="2024-02-05T10:00:00+00:00")
    fake_oms.add_order(invoiced)
    _hook(client, brand_a, state="invoiced", change="2024-02-05T10:00:00.0000000Z")

    maria_net = sum(Commission.objects.filter(influencer=maria).values_list("ledger_posted_cents", flat=True))
    assert maria_net > 0
    assert influencer_balances(brand_a, maria) == {"hold": maria_net}
    share = sum(ReferralCommission.objects.filter(beneficiary=ana).values_list("ledger_posted_cents", flat=True))
    assert share == sum(
        round(Decimal(c) / 10)
        for c in Commission.objects.filter(influencer=maria).values_list("ledger_posted_cents", flat=True)
    )
    assert influencer_balances(brand_a, ana) == {"hold": share}

    fake_oms.add_order(order_doc(coupon=code.text, status="canceled", last_change="2024-02-07T10:00:00+00:00"))
    _hook(client, brand_a, state="canceled", change="2024-02-07T10:00:00.0000000Z")
    assert influencer_balances(brand_a, maria) == {}
    assert influencer_balances(brand_a, ana) == {}
    assert set(Commission.objects.values_list("state", flat=True)) == {"reversed"}


def test_a_self_referral_through_a_shared_payout_account_earns_nothing_and_is_flagged(
    brand_a: Any, campaign_a: Any, fake_oms: Any
) -> None:
    ReferralProgram.objects.create(campaign=campaign_a, enabled=True, rate_percent=Decimal("10"), months=36)
    ana = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana")).influencer
    twin = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana's twin")).influencer
    referral = referral_record(
        membership=twin.memberships.get(), token=recruiting_link_get(influencer=ana, campaign=campaign_a).token
    )
    assert referral is not None
    assert referral.status == "active"
    Referral.objects.filter(pk=referral.pk).update(started_at=STARTED)
    same = PayoutData(account_holder="Ana", bank_name="Nequi", account_type="wallet", account_number="3001234567")
    payout_account_update(influencer=ana, data=same)
    payout_account_update(influencer=twin, data=same)

    Code.objects.create(brand=brand_a, campaign=campaign_a, influencer=twin, text="TWIN10")
    order_apply(
        brand=brand_a,
        data=order_doc(coupon="TWIN10", status="invoiced", last_change="2024-02-05T10:00:00+00:00"),
        source="t",
    )
    assert influencer_balances(brand_a, twin)  # the twin's own commission stands
    assert influencer_balances(brand_a, ana) == {}
    assert not ReferralCommission.objects.exists()
    assert Referral.objects.get().status == "self"
    flag = FraudFlag.objects.get(rule="referral_ring")
    assert flag.evidence["signals"] == ["payout_account"]


def test_two_orders_at_once_cannot_both_fill_the_second_level_cap(brand_a: Any, campaign_a: Any) -> None:
    """The cap is read under two locks, each enough alone: the recruited influencer's referral
    row lock and the beneficiaries' account prelock (commissions.referrals). With both removed
    this test fails (100 posted against a cap of 50): the second sync reads the cap as untouched
    while the first has not committed, and both post."""
    ReferralProgram.objects.create(
        campaign=campaign_a,
        enabled=True,
        rate_percent=Decimal("10"),
        months=36,
        second_level_rate_percent=Decimal("5"),
        second_level_cap_cents=50,
    )
    bea = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Bea")).influencer
    ana = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana")).influencer
    maria = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Maria")).influencer
    for referrer, referred in ((bea, ana), (ana, maria)):
        made = referral_record(
            membership=referred.memberships.get(),
            token=recruiting_link_get(influencer=referrer, campaign=campaign_a).token,
        )
        assert made is not None
    Referral.objects.update(started_at=STARTED)
    Code.objects.create(brand=brand_a, campaign=campaign_a, influencer=maria, text="INFLU-MARIA10")

    first_in = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                order_apply(brand=brand_a, data=order_doc(order_id="1415461749731-01"), source="t")
                first_in.set()
                release.wait(10)
        except BaseException as exc:
            errors.append(exc)
            first_in.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_in.wait(10)
            order_apply(brand=brand_a, data=order_doc(order_id="1415461749732-01"), source="t")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(10)
    time.sleep(1.5)  # the second sync reaches the cap while the first still holds it
    release.set()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    second_level = ReferralCommission.objects.filter(level=2)
    assert second_level.count() == 6  # three lines per order
    assert sum(second_level.values_list("ledger_posted_cents", flat=True)) == 50
    assert influencer_balances(brand_a, bea) == {"estimated": 50}
