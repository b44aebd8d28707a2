"""Orders fixtures: a brand with a running campaign (10 % on every line), an influencer with the
coupon of the VTEX sample (INFLU-MARIA10), documented order bodies, and a fake VTEX that also
filters List orders by `f_hasInputInvoice`."""

import copy
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from campaigns.models import CommissionRule
from codes.models import Code
from orders.services import hook_brand_cache_clear
from payments.models import CommissionPosition, LedgerEntry
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory
from tests.fake_vtex import FakeVTEX, fake_vtex_serving, load_sample

SAMPLE_ORDER_ID = "1415461749731-01"
COUPON = "INFLU-MARIA10"
PROMOTION_ID = "2b4d6f1e-8c3a-4e5b-9d7f-1a2b3c4d5e6f"


class FakeOMS(FakeVTEX):
    """FakeVTEX plus `f_hasInputInvoice=true` (orders with an Input package)."""

    def _orders_list(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        if (query.get("f_hasInputInvoice") or [""])[0] != "true":
            return super()._orders_list(query)
        saved = self.orders
        try:
            self.orders = {
                key: order
                for key, order in saved.items()
                if any(
                    (p.get("type") or "").lower() == "input"
                    for p in (order.get("packageAttachment") or {}).get("packages") or []
                )
            }
            return super()._orders_list(query)
        finally:
            self.orders = saved


@pytest.fixture
def fake_oms(settings: Any) -> Any:
    """The root `fake_vtex` fixture's server, with FakeOMS's return-invoice filter."""
    with fake_vtex_serving(settings, FakeOMS()) as server:
        yield server


def order_doc(
    *,
    order_id: str = SAMPLE_ORDER_ID,
    status: str = "payment-approved",
    last_change: str = "2024-02-04T20:15:12.7010747+00:00",
    coupon: str | None = COUPON,
    creation: str = "2024-02-04T20:09:43.899958+00:00",
    returns: list[dict[str, Any]] | None = None,
    removed: list[dict[str, Any]] | None = None,
    currency: str = "COP",
) -> dict[str, Any]:
    """The documented sample order (3 lines: 2×5922 total, 4491, 1500), with overrides. The
    sample is a BRL store's; `currency` (storePreferencesData.currencyCode) defaults to the
    test brands' COP, so its cents are brand money unless a test says otherwise."""
    doc = copy.deepcopy(load_sample("oms-order-coupon-3-items.json"))
    doc["storePreferencesData"]["currencyCode"] = currency
    doc["orderId"] = order_id
    doc["orderGroup"] = order_id.rsplit("-", 1)[0]
    doc["status"] = status
    doc["lastChange"] = last_change
    doc["creationDate"] = creation
    if status == "invoiced":
        doc["invoicedDate"] = last_change
    if status == "canceled":
        doc["cancellationData"] = {"Reason": "customer", "CancellationDate": last_change}
    if coupon is None:
        doc["marketingData"] = None
    else:
        doc["marketingData"]["coupon"] = coupon
    packages = []
    for ret in returns or []:
        packages.append(
            {
                "type": "Input",
                "invoiceNumber": ret["number"],
                "invoiceValue": ret.get("value", 0),
                "issuanceDate": last_change,
                "items": [{"itemIndex": i, "quantity": q, "price": 0} for i, q in ret["items"]],
                "restitutions": {"Refund": {"value": ret.get("value", 0), "items": []}},
            }
        )
    doc["packageAttachment"] = {"packages": packages}
    if removed:
        doc["changesAttachment"] = {
            "id": "changeAttachment",
            "changesData": [
                {"reason": "r", "discountValue": 0, "incrementValue": 0, "itemsAdded": [], "itemsRemoved": removed}
            ],
        }
    return doc


def hook_payload(
    *,
    order_id: str = SAMPLE_ORDER_ID,
    state: str = "payment-approved",
    account: str = "acme",
    change: str = "2024-02-04T20:15:12.7010747Z",
) -> dict[str, Any]:
    return {
        "Domain": "Marketplace",
        "OrderId": order_id,
        "State": state,
        "LastState": "payment-pending",
        "LastChange": "2024-02-04T20:09:44.0000000Z",
        "CurrentChange": change,
        "Origin": {"Account": account, "Key": "vtexappkey-acme-KEY"},
    }


@pytest.fixture
def campaign_a(brand_a: Any) -> Any:
    campaign = CampaignFactory(brand=brand_a, hold_days=15)
    CommissionRule.objects.create(
        campaign=campaign, name="Everything 10%", kind="percentage", rate_percent=Decimal("10"), dimension="all"
    )
    return campaign


@pytest.fixture
def maria(brand_a: Any) -> Any:
    return MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Maria")).influencer


@pytest.fixture
def code_maria(brand_a: Any, campaign_a: Any, maria: Any) -> Any:
    return Code.objects.create(brand=brand_a, campaign=campaign_a, influencer=maria, text=COUPON)


@pytest.fixture
def setup(brand_a: Any, campaign_a: Any, maria: Any, code_maria: Any) -> dict[str, Any]:
    return {"brand": brand_a, "campaign": campaign_a, "influencer": maria, "code": code_maria}


def ledger_position(brand: Any, commission: Any) -> dict[str, int]:
    position = CommissionPosition.objects.filter(brand=brand, commission_ref=commission.ledger_ref).first()
    if position is None:
        return {"estimated": 0, "held": 0, "reversed": 0, "posted": 0}
    return {
        "estimated": position.estimated_cents,
        "held": position.held_cents,
        "reversed": position.reversed_cents + position.clawed_back_cents,
    }


def influencer_balances(brand: Any, influencer: Any) -> dict[str, int]:
    rows = (
        LedgerEntry.objects.filter(account__brand=brand, account__influencer=influencer)
        .values("account__kind", "side")
        .annotate(total=Sum("amount_cents"))
    )
    out: dict[str, int] = {}
    for row in rows:
        sign = 1 if row["side"] == "C" else -1
        out[row["account__kind"]] = out.get(row["account__kind"], 0) + sign * row["total"]
    return {k: v for k, v in out.items() if v}


@pytest.fixture(autouse=True)
def _fresh_hook_brand_cache() -> Any:
    hook_brand_cache_clear()
    yield
    hook_brand_cache_clear()
