import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client

from brands.services import brand_rotate_hook_token
from orders.models import Order
from tests.tracking.conftest import BROWSER, drain_all
from tracking.attribution import attribution_decide, choose_by_policy
from tracking.hashing import customer_hashes
from tracking.models import AttributionPolicy, Click, Conversion, CustomerBinding
from tracking.multitouch import multitouch_credit
from tracking.selectors import Policy, attribution_policy_for
from tracking.services import customer_binding_record
from tracking.touchpoints import Touchpoint

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def _click(client: Client, link: Any) -> dict[str, str]:
    response = client.get(f"/r/{link.slug}", **BROWSER)
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def _order(
    brand: Any, *, at: datetime, utms: dict[str, str] | None = None, ref: str = "1001-01", **extra: Any
) -> Order:
    marketing = None
    if utms:
        marketing = {
            "id": "marketingData",
            "utmSource": utms["utm_source"],
            "utmMedium": utms["utm_medium"],
            "utmCampaign": utms["utm_campaign"],
            "utmiCampaign": utms["utmi_cp"],
            "utmiPart": utms["utmi_pc"],
            "coupon": None,
        }
    snapshot = {"orderId": ref, "marketingData": marketing, "clientProfileData": extra.pop("profile", None)}
    return Order.objects.create(
        brand=brand, vtex_order_id=ref, order_group=ref.split("-")[0], created_in_vtex_at=at, snapshot=snapshot, **extra
    )


@pytest.mark.parametrize(
    ("delay", "attributed"), [(timedelta(days=29, hours=23), True), (timedelta(days=30, hours=1), False)]
)
def test_order_with_only_the_clicks_utms_is_attributed_within_the_window(
    client: Client, link_a: Any, delay: timedelta, attributed: bool
) -> None:
    with time_machine.travel(T0, tick=False):
        utms = _click(client, link_a)
        drain_all()
    order = _order(link_a.brand, at=T0 + delay, utms=utms)

    decision = attribution_decide(brand=link_a.brand, order=order)

    if attributed:
        click = Click.objects.get(click_id=utms["utmi_cp"])
        assert decision.source == "click"
        assert decision.influencer_id == link_a.influencer_id
        assert decision.touchpoints[0].click_id == click.pk
    else:
        assert decision.source == "none"
        assert decision.influencer_id is None


def test_utms_of_a_click_not_yet_drained_still_attribute(client: Client, link_a: Any) -> None:
    with time_machine.travel(T0, tick=False):
        utms = _click(client, link_a)  # not drained
    order = _order(link_a.brand, at=T0 + timedelta(hours=2), utms=utms)
    decision = attribution_decide(brand=link_a.brand, order=order)
    assert (decision.source, decision.influencer_id) == ("utm", link_a.influencer_id)


def test_forged_utm_reference_is_ignored(client: Client, link_a: Any) -> None:
    with time_machine.travel(T0, tick=False):
        utms = _click(client, link_a)
    utms["utmi_pc"] = f"{link_a.influencer_id + 1}.{link_a.campaign_id}.{'0' * 12}"
    decision = attribution_decide(brand=link_a.brand, order=_order(link_a.brand, at=T0 + timedelta(hours=1), utms=utms))
    assert decision.source == "none"


def test_conversion_postback_links_order_to_visitor_without_utms(client: Client, link_a: Any) -> None:
    with time_machine.travel(T0, tick=False):
        _click(client, link_a)
        drain_all()
    visitor = client.cookies["mgm_vid"].value
    brand = link_a.brand
    response = Client().post(
        "/t/conversion",
        data={"brand": brand.vtex_account, "order": "2002", "visitor": visitor},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {brand.hook_token}",
    )
    assert response.status_code == 202
    order = _order(brand, at=T0 + timedelta(days=3), ref="2002-01")
    decision = attribution_decide(brand=brand, order=order)
    assert (decision.source, decision.influencer_id) == ("other", link_a.influencer_id)
    assert decision.touchpoints[0].kind == "visitor"


def test_conversion_postback_accepts_the_previous_token_only_during_the_grace_period(link_a: Any) -> None:
    old_token = link_a.brand.hook_token
    with time_machine.travel(T0, tick=False):
        brand = brand_rotate_hook_token(brand=link_a.brand, grace=timedelta(hours=1))
    assert brand.hook_token != old_token

    def post(token: str, order: str) -> int:
        return (
            Client()
            .post(
                "/t/conversion",
                data={"brand": brand.vtex_account, "order": order, "visitor": "a" * 22},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            .status_code
        )

    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        assert post(old_token, "4001") == 202
        assert post(brand.hook_token, "4002") == 202
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert post(old_token, "4003") == 401
    assert sorted(Conversion.objects.values_list("order_ref", flat=True)) == ["4001", "4002"]


def test_conversion_from_a_foreign_origin_is_refused(link_a: Any) -> None:
    response = Client().post(
        "/t/conversion",
        data=json.dumps({"brand": link_a.brand.vtex_account, "order": "2002", "visitor": "a" * 22}),
        content_type="text/plain",
        HTTP_ORIGIN="https://evil.com",
    )
    assert response.status_code == 403
    assert not Conversion.objects.exists()


def test_conversion_from_the_store_gets_cors_and_is_recorded(link_a: Any) -> None:
    response = Client().post(
        "/t/conversion",
        data=json.dumps({"brand": link_a.brand.vtex_account, "order": "3003", "click": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}),
        content_type="text/plain",
        HTTP_ORIGIN="https://www.acme.example",
        **BROWSER,
    )
    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == "https://www.acme.example"
    conversion = Conversion.objects.get()
    assert conversion.source == "script"
    assert conversion.fingerprint


def test_server_postback_without_token_is_refused(link_a: Any) -> None:
    response = Client().post(
        "/t/conversion",
        data={"brand": link_a.brand.vtex_account, "order": "1", "visitor": "a" * 22},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert not Conversion.objects.exists()


def _tp(kind: str, infl: int, hours: int, campaign: int = 1) -> Touchpoint:
    return Touchpoint(kind=kind, influencer_id=infl, campaign_id=campaign, occurred_at=T0 + timedelta(hours=hours))


def test_coupon_wins_over_link_by_default() -> None:
    winner, rule = choose_by_policy([_tp("click", 1, 0), _tp("coupon", 2, 5)], policy_for=lambda _: Policy())
    assert winner.influencer_id == 2
    assert rule == "coupon wins over link"


def test_link_wins_when_the_campaign_says_so() -> None:
    policy = Policy(precedence="link")
    winner, _rule = choose_by_policy([_tp("click", 1, 0), _tp("coupon", 2, 5)], policy_for=lambda _: policy)
    assert winner.influencer_id == 1


@pytest.mark.parametrize(("model", "expected"), [("last", 3), ("first", 1)])
def test_first_or_last_click(model: str, expected: int) -> None:
    policy = Policy(click_model=model)
    touchpoints = [_tp("click", 2, 5), _tp("click", 1, 0), _tp("visitor", 3, 9)]
    winner, _rule = choose_by_policy(touchpoints, policy_for=lambda _: policy)
    assert winner.influencer_id == expected


def test_policy_defaults_and_stored_policy(campaign_a: Any) -> None:
    assert attribution_policy_for(campaign_a) == Policy(window_days=30)
    AttributionPolicy.objects.create(campaign=campaign_a, precedence="link", click_model="first", window_days=7)
    campaign_a.refresh_from_db()
    policy = attribution_policy_for(campaign_a)
    assert (policy.precedence, policy.click_model, policy.window_days) == ("link", "first", 7)


def test_cross_device_binding_attributes_a_later_order(campaign_a: Any, influencer_a: Any) -> None:
    AttributionPolicy.objects.create(campaign=campaign_a, cross_device=True)
    campaign_a.refresh_from_db()
    hashes = customer_hashes(email="ana@example.com")
    customer_binding_record(
        campaign=campaign_a, influencer=influencer_a, customer_hashes=hashes, order_ref="1-01", at=T0
    )
    order = _order(campaign_a.brand, at=T0 + timedelta(days=60), ref="5-01", profile={"email": "ANA@example.com"})
    decision = attribution_decide(brand=campaign_a.brand, order=order)
    assert decision.influencer_id == influencer_a.pk
    assert decision.touchpoints[0].detail["via"] == "customer_binding"


def test_binding_is_not_recorded_when_the_campaign_does_not_enable_it(campaign_a: Any, influencer_a: Any) -> None:
    assert (
        customer_binding_record(campaign=campaign_a, influencer=influencer_a, customer_hashes=["e:x"], order_ref="1")
        == []
    )
    assert not CustomerBinding.objects.exists()


def _mt(infl: int, days_before: float) -> Any:
    return SimpleNamespace(influencer_id=infl, occurred_at=T0 - timedelta(days=days_before))


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first", {1: Decimal(1), 2: Decimal(0), 3: Decimal(0)}),
        ("last", {1: Decimal(0), 2: Decimal(0), 3: Decimal(1)}),
        ("position", {1: Decimal("0.4"), 2: Decimal("0.2"), 3: Decimal("0.4")}),
    ],
)
def test_multitouch_models(model: str, expected: dict[int, Decimal]) -> None:
    credit = multitouch_credit([_mt(3, 1), _mt(1, 10), _mt(2, 5)], model=model, converted_at=T0)
    assert credit == expected


def test_linear_and_time_decay_add_up_to_one() -> None:
    touchpoints = [_mt(1, 14), _mt(2, 7), _mt(3, 0)]
    linear = multitouch_credit(touchpoints, model="linear", converted_at=T0)
    decay = multitouch_credit(touchpoints, model="time_decay", converted_at=T0, half_life_days=7)
    assert abs(sum(linear.values()) - 1) < Decimal("1e-20")
    assert abs(sum(decay.values()) - 1) < Decimal("1e-20")
    assert decay[3] == pytest.approx(decay[2] * 2)
    assert decay[2] == pytest.approx(decay[1] * 2)


def test_attribution_reads_order_facts_not_the_order_model(client: Client, link_a: Any) -> None:
    """Tracking sits below orders: it decides from the facts orders hands it (any object with the
    `OrderFacts` fields), no Order row needed."""
    with time_machine.travel(T0, tick=False):
        utms = _click(client, link_a)
        drain_all()
    facts = SimpleNamespace(
        vtex_order_id="3003-01",
        order_group="3003",
        coupon="",
        promotion_id="",
        created_in_vtex_at=T0 + timedelta(hours=1),
        created_at=None,
        snapshot={"marketingData": {"utmiCampaign": utms["utmi_cp"], "utmiPart": utms["utmi_pc"]}},
    )

    decision = attribution_decide(brand=link_a.brand, order=facts)

    assert (decision.source, decision.influencer_id) == ("click", link_a.influencer_id)
    assert decision.touchpoints_json()[0]["detail"]["click"] == utms["utmi_cp"]
    assert not Order.objects.exists()
