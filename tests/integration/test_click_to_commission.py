"""From a click to a commission, end to end, on PostgreSQL and SQLite alike: `GET /r/<slug>`
lands on the store with our UTMs; the click is drained to the database; VTEX notifies the
order on the hook endpoint and the worker fetches it from the (fake) VTEX server; attribution,
fraud screening and commissions follow. A self-referral is held until a manager decides in the
admin review queue: released, the ledger accrues and confirms it; rejected, it is reversed and
a later sync of the order never brings it back."""

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from commissions.models import Commission
from orders.models import HookEvent, Order
from orders.services import order_reprocess
from payments.models import CommissionPosition, LedgerEntry, LedgerTransaction
from tests.fake_vtex import load_sample
from tests.orders.conftest import influencer_balances
from tests.tracking.conftest import BROWSER, drain_all
from tracking.models import Click, FraudFlag

pytestmark = pytest.mark.django_db

HOOK_URL = "/api/v1/webhooks/vtex/acme/orders/"
COMMISSION_CENTS = 1191  # 10 % of the sample's lines (docs/orders.md base rule)


def _vtex_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _click(client: Client, slug: str) -> dict[str, str]:
    """Follow the influencer's link like a browser; returns the UTM parameters it landed with."""
    response = client.get(f"/r/{slug}", **BROWSER)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.hostname) == ("https", "www.acme.example")
    params = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert params["utm_source"] == "mgm-link"
    assert params["utm_medium"] == "influencer"
    assert params["utm_campaign"] == "lanzamiento"
    return params


def _order(
    order_id: str,
    *,
    utms: dict[str, str],
    created: datetime,
    status: str = "payment-approved",
    changed: datetime | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """The documented 3-item coupon sample with the coupon removed and the marketing data the
    store records for a visitor who arrived through our redirect."""
    doc = copy.deepcopy(load_sample("oms-order-coupon-3-items.json"))
    changed = changed or created + timedelta(minutes=5)
    doc["orderId"] = order_id
    doc["orderGroup"] = order_id.rsplit("-", 1)[0]
    doc["storePreferencesData"]["currencyCode"] = "COP"  # the test brand's: brand money
    doc["status"] = status
    doc["creationDate"] = _vtex_time(created)
    doc["lastChange"] = _vtex_time(changed)
    if status == "invoiced":
        doc["invoicedDate"] = _vtex_time(changed)
    marketing = doc["marketingData"]
    marketing["coupon"] = None
    marketing["utmSource"] = utms["utm_source"]
    marketing["utmMedium"] = utms["utm_medium"]
    marketing["utmCampaign"] = utms["utm_campaign"]
    marketing["utmiCampaign"] = utms["utmi_cp"]
    marketing["utmiPart"] = utms["utmi_pc"]
    if email is not None:
        doc["clientProfileData"]["email"] = email
    return doc


def _notify(brand: Any, doc: dict[str, Any], capture: Any, *, token: str | None = None) -> Any:
    """VTEX's hook for the order's current state; the worker runs after commit (eager)."""
    body = {
        "Domain": "Marketplace",
        "OrderId": doc["orderId"],
        "State": doc["status"],
        "LastState": "payment-pending",
        "LastChange": doc["creationDate"],
        "CurrentChange": doc["lastChange"],
        "Origin": {"Account": "acme", "Key": "vtexappkey-acme-KEY"},
    }
    with capture(execute=True):
        return Client().post(
            HOOK_URL,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_X_HOOK_TOKEN=token if token is not None else brand.hook_token,
        )


def _money() -> tuple[int, int, list[tuple[Any, ...]]]:
    return (
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
        list(
            Commission.objects.order_by("pk").values_list(
                "state", "fraud_review", "ledger_stage", "ledger_posted_cents", "reversed_cents"
            )
        ),
    )


@pytest.fixture
def t0() -> datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def clicked(client: Client, demo_link: Any, t0: datetime) -> dict[str, str]:
    """A shopper clicks the demo link at t0; the drain stores the click."""
    with time_machine.travel(t0, tick=False):
        utms = _click(client, demo_link.slug)
        assert drain_all() == 1
    click = Click.objects.get()
    assert (click.click_id, click.influencer_id, click.is_valid) == (utms["utmi_cp"], demo_link.influencer_id, True)
    return utms


def test_a_click_becomes_a_commission_of_the_links_influencer(
    brand_a: Any,
    maria: Any,
    clicked: dict[str, str],
    t0: datetime,
    fake_vtex: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    doc = _order("1500000000001-01", utms=clicked, created=t0 + timedelta(minutes=10))
    fake_vtex.add_order(doc)

    with time_machine.travel(t0 + timedelta(hours=1)):
        response = _notify(brand_a, doc, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert HookEvent.objects.get().status == "processed"
    assert len(fake_vtex.requests_to("/api/oms/pvt/orders/1500000000001-01")) == 1
    order = Order.objects.get()
    assert (order.attribution_source, order.influencer_id) == ("click", maria.pk)
    assert order.coupon == ""
    assert [tp["detail"]["click"] for tp in order.attribution_touchpoints] == [clicked["utmi_cp"]]
    commissions = list(Commission.objects.order_by("pk"))
    assert {(c.influencer_id, c.state, c.fraud_review) for c in commissions} == {(maria.pk, "estimated", "clear")}
    assert sum(c.amount_cents for c in commissions) == COMMISSION_CENTS
    assert influencer_balances(brand_a, maria) == {"estimated": COMMISSION_CENTS}
    assert not FraudFlag.objects.exists()


def test_a_wrong_hook_token_changes_nothing(
    brand_a: Any, clicked: dict[str, str], t0: datetime, fake_vtex: Any, django_capture_on_commit_callbacks: Any
) -> None:
    doc = _order("1500000000009-01", utms=clicked, created=t0 + timedelta(minutes=10))
    fake_vtex.add_order(doc)

    response = _notify(brand_a, doc, django_capture_on_commit_callbacks, token="not-the-token")

    assert response.status_code == 401
    assert not HookEvent.objects.exists()
    assert not Order.objects.exists()
    assert _money() == (0, 0, [])
    assert fake_vtex.requests_to("/api/oms/pvt/orders/") == []


def test_an_order_after_the_attribution_window_is_unattributed_and_earns_nothing(
    brand_a: Any,
    maria: Any,
    clicked: dict[str, str],
    t0: datetime,
    fake_vtex: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    late = t0 + timedelta(days=30, hours=1)
    doc = _order("1500000000002-01", utms=clicked, created=late)
    fake_vtex.add_order(doc)

    with time_machine.travel(late + timedelta(hours=1)):
        assert _notify(brand_a, doc, django_capture_on_commit_callbacks).status_code == 200

    order = Order.objects.get()
    assert HookEvent.objects.get().status == "processed"
    assert (order.attribution_source, order.influencer_id, order.campaign_id) == ("none", None, None)
    assert _money() == (0, 0, [])
    assert influencer_balances(brand_a, maria) == {}
    assert not FraudFlag.objects.exists()


@pytest.fixture
def self_referral(
    brand_a: Any,
    maria: Any,
    clicked: dict[str, str],
    t0: datetime,
    fake_vtex: Any,
    django_capture_on_commit_callbacks: Any,
) -> Order:
    """Maria buys through her own link with her own email; VTEX already invoiced the order."""
    doc = _order(
        "1500000000003-01",
        utms=clicked,
        created=t0 + timedelta(minutes=10),
        status="invoiced",
        email=maria.user.email,
    )
    fake_vtex.add_order(doc)
    with time_machine.travel(t0 + timedelta(hours=1)):
        assert _notify(brand_a, doc, django_capture_on_commit_callbacks).status_code == 200
    return Order.objects.get(vtex_order_id="1500000000003-01")


def test_a_self_referral_is_held_and_waits_in_the_review_queue(
    brand_a: Any, maria: Any, manager_a: Any, superuser: Any, self_referral: Order, verified_client: Any
) -> None:
    assert self_referral.influencer_id == maria.pk
    flag = FraudFlag.objects.get()
    assert (flag.rule, flag.subject_ref, flag.status) == ("self_referral", "1500000000003-01", "open")
    assert set(Commission.objects.values_list("state", "fraud_review", "ledger_stage")) == {
        ("estimated", "held", "estimated")
    }
    # Accrued as estimated, never confirmed: nothing on hold for the cutoff to release.
    assert influencer_balances(brand_a, maria) == {"estimated": COMMISSION_CENTS}
    assert not LedgerTransaction.objects.filter(kind="confirm").exists()
    assert not CommissionPosition.objects.filter(held_cents__gt=0).exists()

    page = verified_client(manager_a).get(reverse("admin:tracking_fraudflag_review"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "1500000000003-01" in html
    assert "Maria" in html
    assert "11.91" in html  # the commission on hold

    listing = verified_client(superuser).get(
        reverse("admin:commissions_commission_changelist"), {"fraud_review__exact": "held"}
    )
    assert listing.status_code == 200
    assert listing.content.decode().count("1500000000003-01") >= 3


def _resolve(client: Client, flag: FraudFlag, decision: str, reason: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(
            reverse("admin:tracking_fraudflag_review"), {"flag": [flag.pk], "decision": decision, "reason": reason}
        )


def test_a_manager_releases_it_and_the_ledger_accrues_and_confirms(
    brand_a: Any,
    maria: Any,
    manager_a: Any,
    self_referral: Order,
    verified_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    flag = FraudFlag.objects.get()

    response = _resolve(
        verified_client(manager_a),
        flag,
        "released",
        "Verified: a gift for her mother.",
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by_id) == ("released", manager_a.pk)
    commissions = list(Commission.objects.order_by("pk"))
    assert {(c.state, c.fraud_review, c.ledger_stage) for c in commissions} == {("confirmed", "released", "confirmed")}
    refs = {c.ledger_ref for c in commissions}
    assert set(LedgerTransaction.objects.filter(kind="accrue").values_list("reference", flat=True)) == refs
    assert set(LedgerTransaction.objects.filter(kind="confirm").values_list("reference", flat=True)) == refs
    assert influencer_balances(brand_a, maria) == {"hold": COMMISSION_CENTS}
    positions = CommissionPosition.objects.filter(commission_ref__in=refs)
    assert sum(p.held_cents for p in positions) == COMMISSION_CENTS
    assert all(p.hold_until is not None for p in positions)
    assert AuditEvent.objects.filter(action="commission.fraud_released", actor=manager_a).count() == 3
    assert AuditEvent.objects.filter(action="tracking.fraud_flag_released", actor=manager_a).count() == 1


def test_a_manager_of_another_brand_or_finance_cannot_release_it(
    brand_a: Any,
    manager_b: Any,
    finance_a: Any,
    self_referral: Order,
    verified_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    flag = FraudFlag.objects.get()
    before = _money()
    audits = AuditEvent.objects.count()

    other = _resolve(verified_client(manager_b), flag, "released", "Not my brand.", django_capture_on_commit_callbacks)
    viewer = _resolve(verified_client(finance_a), flag, "released", "Only viewing.", django_capture_on_commit_callbacks)

    assert other.status_code == 302  # the queue shows manager B nothing of brand A
    assert viewer.status_code == 403
    flag.refresh_from_db()
    assert flag.status == "open"
    assert _money() == before
    assert AuditEvent.objects.count() == audits


def test_a_rejected_one_is_reversed_and_a_resync_does_not_bring_it_back(
    brand_a: Any,
    maria: Any,
    manager_a: Any,
    self_referral: Order,
    t0: datetime,
    clicked: dict[str, str],
    fake_vtex: Any,
    verified_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    flag = FraudFlag.objects.get()

    _resolve(verified_client(manager_a), flag, "rejected", "Her own purchase.", django_capture_on_commit_callbacks)

    flag.refresh_from_db()
    assert flag.status == "rejected"
    assert set(Commission.objects.values_list("state", "fraud_review", "ledger_posted_cents")) == {
        ("reversed", "rejected", 0)
    }
    assert LedgerTransaction.objects.filter(kind="reverse", reference__endswith="#fraud1").count() == 3
    assert influencer_balances(brand_a, maria) == {}
    assert AuditEvent.objects.filter(action="commission.fraud_rejected", actor=manager_a).count() == 3
    after_reject = _money()

    # VTEX changes the order again (a later notification), and a manager reprocesses it.
    doc = _order(
        "1500000000003-01",
        utms=clicked,
        created=t0 + timedelta(minutes=10),
        status="invoiced",
        changed=t0 + timedelta(days=1),
        email=maria.user.email,
    )
    doc["invoiceData"] = {"note": "changed"}
    fake_vtex.add_order(doc)
    with time_machine.travel(t0 + timedelta(days=1, hours=1)):
        assert _notify(brand_a, doc, django_capture_on_commit_callbacks).status_code == 200

    order_reprocess(order_id=self_referral.pk, actor=manager_a)

    assert HookEvent.objects.filter(status="processed").count() == 2
    assert Order.objects.get().sync_count == 3
    assert _money() == after_reject
    assert influencer_balances(brand_a, maria) == {}
