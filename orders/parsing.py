"""Pure functions that read what VTEX sends: hook notifications (all three documented shapes)
and Get order documents (lines, totals, returns, removals, coupon promotion). No database here;
see docs/orders.md for the rules and VTEX_API_NOTES §1–3 for the sources."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

from core.errors import ApplicationError
from integrations.vtex.types import parse_vtex_datetime

# `0001-01-01T00:00:00` is VTEX's null for CurrentChange in the FromOrders shape.
_NULL_TIME_PREFIX = "0001-01-01"


class HookPayloadInvalid(ApplicationError):
    default_code = "hook_payload_invalid"
    status_code = 400


@dataclass(frozen=True)
class HookNotification:
    order_id: str
    state: str
    last_state: str
    domain: str
    account: str
    app_key: str
    change_key: str
    changed_at: datetime | None


def _vtex_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip() or value.startswith(_NULL_TIME_PREFIX):
        return None
    try:
        parsed = parse_vtex_datetime(value)
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        # The FromOrders shape sends no offset; VTEX's clocks are UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def hook_is_ping(payload: Any) -> bool:
    return isinstance(payload, Mapping) and "hookConfig" in payload


def hook_parse(payload: Any) -> HookNotification:
    """Validate one notification. Accepts the 5-field guide shape, the 7-field OpenAPI shape and
    the `OrdersDocumentUpdated` shape (`State: "unknow"`, null LastState, no offset). Unknown
    states are accepted: we never trust `State`, we fetch the order."""
    if not isinstance(payload, Mapping):
        raise HookPayloadInvalid(_("The notification must be a JSON object."))
    missing = [key for key in ("OrderId", "State", "LastChange", "Origin") if payload.get(key) in (None, "")]
    if missing:
        raise HookPayloadInvalid(
            _("The notification is missing %(fields)s.") % {"fields": ", ".join(missing)}, code="hook_missing_fields"
        )
    origin = payload["Origin"]
    if not isinstance(origin, Mapping) or not origin.get("Account"):
        raise HookPayloadInvalid(_("The notification's Origin must name the VTEX Account."), code="hook_missing_fields")
    order_id = payload["OrderId"]
    state = payload["State"]
    if not isinstance(order_id, str) or not isinstance(state, str) or len(order_id) > 64 or len(state) > 64:
        raise HookPayloadInvalid(_("OrderId and State must be short strings."))
    last_change = payload["LastChange"]
    current_change = payload.get("CurrentChange")
    if not isinstance(last_change, str) or _vtex_time(last_change) is None:
        raise HookPayloadInvalid(_("LastChange must be an ISO 8601 time."), code="hook_bad_time")
    if isinstance(current_change, str) and current_change and not current_change.startswith(_NULL_TIME_PREFIX):
        change_key = current_change
    else:
        change_key = last_change
    return HookNotification(
        order_id=order_id.strip(),
        state=state.strip(),
        last_state=str(payload.get("LastState") or "")[:64],
        domain=str(payload.get("Domain") or "")[:40],
        account=str(origin.get("Account") or ""),
        app_key=str(origin.get("Key") or ""),
        change_key=change_key.strip()[:40],
        changed_at=_vtex_time(change_key),
    )


# --- Get order -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineData:
    item_index: int
    sku_id: str
    product_id: str
    ref_id: str
    name: str
    quantity: int
    unit_price_cents: int
    selling_price_cents: int
    total_cents: int
    is_gift: bool
    vtex_brand_id: str
    category_ids: tuple[str, ...]
    collection_ids: tuple[str, ...]
    coupon_discount_cents: int
    returned_quantity: int
    removed_quantity: int


@dataclass(frozen=True)
class ReturnData:
    invoice_number: str
    value_cents: int
    issued_at: datetime | None
    items: tuple[tuple[int, int], ...]  # (itemIndex, quantity)


@dataclass(frozen=True)
class OrderData:
    order_id: str
    order_group: str
    sequence: str
    status: str
    value_cents: int
    totals: Mapping[str, int]
    currency: str
    creation_date: datetime | None
    last_change: datetime | None
    authorized_date: datetime | None
    invoiced_date: datetime | None
    cancellation_date: datetime | None
    coupon: str
    promotion_id: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    lines: tuple[LineData, ...]
    returns: tuple[ReturnData, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)


def _int(value: Any, default: int = 0) -> int:
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return default


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def line_total_cents(item: Mapping[str, Any]) -> int:
    """`priceDefinition.total` (exact), else `priceDefinitions.total` (older orders), else
    `sellingPrice × quantity` (unit price, may carry a rounding error)."""
    for key in ("priceDefinition", "priceDefinitions"):
        definition = item.get(key)
        if isinstance(definition, Mapping) and definition.get("total") is not None:
            return _int(definition.get("total"))
    return _int(item.get("sellingPrice")) * _int(item.get("quantity"))


def coupon_promotion_id(order: Mapping[str, Any], coupon: str) -> str:
    """The promotion the coupon matched: `ratesAndBenefitsData.rateAndBenefitsIdentifiers[]`
    whose `matchedParameters["couponCode@Marketing"]` is the coupon (case-insensitive)."""
    if not coupon:
        return ""
    wanted = coupon.strip().casefold()
    benefits = (order.get("ratesAndBenefitsData") or {}).get("rateAndBenefitsIdentifiers") or []
    for benefit in benefits:
        if not isinstance(benefit, Mapping):
            continue
        params = benefit.get("matchedParameters") or {}
        if isinstance(params, Mapping) and _s(params.get("couponCode@Marketing")).strip().casefold() == wanted:
            return _s(benefit.get("id"))
    return ""


def returned_quantities(order: Mapping[str, Any]) -> tuple[dict[int, int], tuple[ReturnData, ...]]:
    """Units returned per `itemIndex`, from the Input packages, each invoice number counted once
    (re-posting an invoice number only regenerates its receipt)."""
    packages = (order.get("packageAttachment") or {}).get("packages") or []
    seen: set[str] = set()
    per_index: dict[int, int] = {}
    returns: list[ReturnData] = []
    for package in packages:
        if not isinstance(package, Mapping) or _s(package.get("type")).casefold() != "input":
            continue
        number = _s(package.get("invoiceNumber")).strip()
        if not number or number in seen:
            continue
        seen.add(number)
        items: list[tuple[int, int]] = []
        for item in package.get("items") or []:
            if not isinstance(item, Mapping) or item.get("itemIndex") is None:
                continue
            index, quantity = _int(item.get("itemIndex")), _int(item.get("quantity"))
            if quantity > 0:
                per_index[index] = per_index.get(index, 0) + quantity
                items.append((index, quantity))
        returns.append(
            ReturnData(
                invoice_number=number[:120],
                value_cents=_int(package.get("invoiceValue")),
                issued_at=_vtex_time(package.get("issuanceDate")),
                items=tuple(items),
            )
        )
    return per_index, tuple(returns)


def removed_quantities(order: Mapping[str, Any], items: list[Mapping[str, Any]]) -> dict[int, int]:
    """Units removed by order changes (`changesAttachment.changesData[].itemsRemoved`, by SKU id,
    minus `itemsAdded` of the same SKU), assigned to the lines of that SKU in index order."""
    changes = (order.get("changesAttachment") or {}).get("changesData") or []
    by_sku: dict[str, int] = {}
    for change in changes:
        if not isinstance(change, Mapping):
            continue
        for removed in change.get("itemsRemoved") or []:
            if isinstance(removed, Mapping):
                by_sku[_s(removed.get("id"))] = by_sku.get(_s(removed.get("id")), 0) + _int(removed.get("quantity"))
        for added in change.get("itemsAdded") or []:
            if isinstance(added, Mapping):
                by_sku[_s(added.get("id"))] = by_sku.get(_s(added.get("id")), 0) - _int(added.get("quantity"))
    per_index: dict[int, int] = {}
    for index, item in enumerate(items):
        left = by_sku.get(_s(item.get("id")), 0)
        if left <= 0:
            continue
        taken = min(left, _int(item.get("quantity")))
        per_index[index] = taken
        by_sku[_s(item.get("id"))] = left - taken
    return per_index


def order_coupon(data: Mapping[str, Any]) -> str:
    """The coupon the shopper typed (`marketingData.coupon`), as `OrderData.coupon` has it, whole
    (the order keeps its first 80 characters)."""
    marketing = data.get("marketingData") or {}
    return _s(marketing.get("coupon")).strip() if isinstance(marketing, Mapping) else ""


def order_creation_date(data: Mapping[str, Any]) -> datetime | None:
    """`creationDate`, as `OrderData.creation_date` has it."""
    return _vtex_time(data.get("creationDate"))


def order_last_change(data: Mapping[str, Any]) -> datetime | None:
    """`lastChange`, as `OrderData.last_change` has it."""
    return _vtex_time(data.get("lastChange"))


def order_parse(data: Any) -> OrderData:
    """Read a Get order document into what we store. Tolerant of nulls and older spellings."""
    if not isinstance(data, Mapping) or not data.get("orderId"):
        raise HookPayloadInvalid(_("The VTEX order has no orderId."), code="order_invalid")
    marketing = data.get("marketingData") or {}
    coupon = order_coupon(data)
    promotion_id = coupon_promotion_id(data, coupon)
    items = [item for item in data.get("items") or [] if isinstance(item, Mapping)]
    returned, returns = returned_quantities(data)
    removed = removed_quantities(data, items)
    lines = []
    for index, item in enumerate(items):
        info = item.get("additionalInfo") or {}
        quantity = max(0, _int(item.get("quantity")))
        coupon_discount = 0
        if promotion_id:
            coupon_discount = -sum(
                _int(tag.get("value"))
                for tag in item.get("priceTags") or []
                if isinstance(tag, Mapping) and _s(tag.get("identifier")) == promotion_id
            )
        lines.append(
            LineData(
                item_index=index,
                sku_id=_s(item.get("id"))[:40],
                product_id=_s(item.get("productId"))[:40],
                ref_id=_s(item.get("refId"))[:80],
                name=_s(item.get("name"))[:300],
                quantity=quantity,
                unit_price_cents=_int(item.get("price")),
                selling_price_cents=_int(item.get("sellingPrice")),
                total_cents=max(0, line_total_cents(item)),
                is_gift=bool(item.get("isGift")),
                vtex_brand_id=_s(info.get("brandId"))[:40],
                category_ids=tuple(part for part in _s(info.get("categoriesIds")).split("/") if part),
                collection_ids=tuple(p.strip() for p in _s(info.get("productClusterId")).split(",") if p.strip()),
                coupon_discount_cents=coupon_discount,
                returned_quantity=min(quantity, returned.get(index, 0)),
                removed_quantity=min(quantity, removed.get(index, 0)),
            )
        )
    totals = {
        _s(total.get("id")): _int(total.get("value"))
        for total in data.get("totals") or []
        if isinstance(total, Mapping)
    }
    cancellation = data.get("cancellationData") or {}
    prefs = data.get("storePreferencesData") or {}
    return OrderData(
        order_id=_s(data.get("orderId"))[:64],
        order_group=_s(data.get("orderGroup"))[:64],
        sequence=_s(data.get("sequence"))[:32],
        status=_s(data.get("status"))[:64],
        value_cents=_int(data.get("value")),
        totals=totals,
        currency=_s(prefs.get("currencyCode"))[:3],
        creation_date=order_creation_date(data),
        last_change=_vtex_time(data.get("lastChange")),
        authorized_date=_vtex_time(data.get("authorizedDate")),
        invoiced_date=_vtex_time(data.get("invoicedDate")),
        cancellation_date=_vtex_time(cancellation.get("CancellationDate"))
        if isinstance(cancellation, Mapping)
        else None,
        coupon=coupon[:80],
        promotion_id=promotion_id[:64],
        utm_source=_s(marketing.get("utmSource"))[:200],
        utm_medium=_s(marketing.get("utmMedium"))[:200],
        utm_campaign=_s(marketing.get("utmCampaign"))[:200],
        lines=tuple(lines),
        returns=returns,
        raw=data,
    )


def snapshot_hash(data: Mapping[str, Any]) -> str:
    """A stable fingerprint of a fetched order, to skip work when nothing changed."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
