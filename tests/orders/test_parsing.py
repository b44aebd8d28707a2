import pytest

from orders.parsing import HookPayloadInvalid, hook_is_ping, hook_parse, line_total_cents, order_parse
from tests.fake_vtex import load_sample
from tests.orders.conftest import PROMOTION_ID, order_doc

SHAPE_A = {
    "Domain": "Marketplace",
    "OrderId": "v40484048naf-01",
    "State": "payment-approved",
    "LastChange": "2019-07-29T23:17:30.0617185Z",
    "Origin": {"Account": "accountABC", "Key": "vtexappkey-keyEDF"},
}
SHAPE_B = {
    "Domain": "Fulfillment",
    "OrderId": "v52277740atmc-01",
    "State": "ready-for-handling",
    "LastState": "window-to-cancel",
    "LastChange": "2019-08-14T17:11:39.2550122Z",
    "CurrentChange": "2019-08-14T17:12:48.0965893Z",
    "Origin": {"Account": "automacaoqa", "Key": "vtexappkey-appvtex"},
}
SHAPE_C = {
    "Domain": "OrdersDocumentUpdated",
    "OrderId": "v40484048naf-01",
    "State": "unknow",
    "LastState": None,
    "LastChange": "2022-12-15T20:32:06.6120711",
    "CurrentChange": "0001-01-01T00:00:00",
    "Origin": {"Account": "accountABC", "Key": "vtexappkey-keyEDF"},
}


def test_the_five_field_shape_keys_on_last_change() -> None:
    n = hook_parse(SHAPE_A)
    assert (n.order_id, n.state, n.last_state, n.change_key) == (
        "v40484048naf-01",
        "payment-approved",
        "",
        "2019-07-29T23:17:30.0617185Z",
    )
    assert n.changed_at is not None
    assert n.changed_at.microsecond == 61718


def test_the_seven_field_shape_keys_on_current_change() -> None:
    n = hook_parse(SHAPE_B)
    assert n.change_key == "2019-08-14T17:12:48.0965893Z"
    assert n.last_state == "window-to-cancel"
    assert n.domain == "Fulfillment"


def test_the_orders_document_shape_with_unknow_state_and_no_offset_is_accepted() -> None:
    n = hook_parse(SHAPE_C)
    assert n.state == "unknow"
    assert n.change_key == "2022-12-15T20:32:06.6120711"
    assert n.changed_at is not None
    assert n.changed_at.utcoffset() is not None


def test_the_samples_parse() -> None:
    assert hook_parse(load_sample("hook-canceled.json")).state == "canceled"
    assert hook_parse(load_sample("hook-payment-approved.json")).state == "payment-approved"


def test_ping_is_recognised() -> None:
    assert hook_is_ping({"hookConfig": "ping"})
    assert not hook_is_ping(SHAPE_A)


@pytest.mark.parametrize("missing", ["OrderId", "State", "LastChange", "Origin"])
def test_missing_fields_are_refused_by_name(missing: str) -> None:
    payload = {k: v for k, v in SHAPE_A.items() if k != missing}
    with pytest.raises(HookPayloadInvalid, match=missing):
        hook_parse(payload)


@pytest.mark.parametrize("payload", [[], "x", {**SHAPE_A, "LastChange": "yesterday"}, {**SHAPE_A, "Origin": {}}])
def test_malformed_payloads_are_refused(payload: object) -> None:
    with pytest.raises(HookPayloadInvalid):
        hook_parse(payload)


def test_the_sample_order_lines_totals_and_coupon_promotion() -> None:
    data = order_parse(load_sample("oms-order-coupon-3-items.json"))
    assert data.coupon == "INFLU-MARIA10"
    assert data.promotion_id == PROMOTION_ID
    assert [(ln.sku_id, ln.quantity, ln.total_cents, ln.coupon_discount_cents) for ln in data.lines] == [
        ("18", 2, 5922, 658),
        ("25", 1, 4491, 499),
        ("31", 1, 1500, 0),
    ]
    assert data.totals == {"Items": 13070, "Discounts": -1157, "Shipping": 1500, "Tax": 0}
    assert data.value_cents == 13413
    assert data.order_group == "1415461749731"


def test_the_coupon_promotion_is_matched_case_insensitively_and_by_identifier_not_name() -> None:
    doc = order_doc(coupon="influ-maria10")
    for item in doc["items"]:
        for tag in item["priceTags"]:
            tag["name"] = "DISCOUNT@MARKETPLACE"
    data = order_parse(doc)
    assert data.promotion_id == PROMOTION_ID
    assert data.lines[0].coupon_discount_cents == 658


def test_line_total_falls_back_to_price_definitions_then_selling_price() -> None:
    assert line_total_cents({"priceDefinition": {"total": 5922}, "sellingPrice": 1, "quantity": 2}) == 5922
    assert line_total_cents({"priceDefinitions": {"total": 100}, "sellingPrice": 1, "quantity": 2}) == 100
    assert line_total_cents({"priceDefinitions": None, "sellingPrice": 2961, "quantity": 2}) == 5922


def test_returns_are_summed_by_item_index_and_deduplicated_by_invoice_number() -> None:
    doc = order_doc(
        status="invoiced",
        returns=[
            {"number": "R-1", "items": [(0, 1)]},
            {"number": "R-1", "items": [(0, 1)]},
            {"number": "R-2", "items": [(1, 1)]},
        ],
    )
    data = order_parse(doc)
    assert [ln.returned_quantity for ln in data.lines] == [1, 1, 0]
    assert [r.invoice_number for r in data.returns] == ["R-1", "R-2"]


def test_removed_items_are_assigned_to_lines_of_their_sku() -> None:
    doc = order_doc(removed=[{"id": "18", "name": "Bay Max L", "quantity": 1, "price": 2961}])
    data = order_parse(doc)
    assert [ln.removed_quantity for ln in data.lines] == [1, 0, 0]


def test_gifts_are_flagged() -> None:
    doc = order_doc()
    doc["items"][2]["isGift"] = True
    assert order_parse(doc).lines[2].is_gift
