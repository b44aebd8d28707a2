"""Typed views of the VTEX responses we use. Parsing is tolerant (VTEX adds fields, leaves many
null, and mixes casing), but the fields we rely on are checked: a response we cannot understand
raises `VTEXError` instead of flowing on as a half-empty object."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from integrations.vtex.errors import VTEXError


def _bad(what: str, detail: str) -> VTEXError:
    return VTEXError(
        _("VTEX sent a %(what)s we could not read: %(detail)s") % {"what": what, "detail": detail},
        code="vtex_bad_response",
    )


def parse_vtex_datetime(value: Any) -> datetime | None:
    """VTEX timestamps carry up to 7 fractional digits ("2024-02-04T20:09:44.8305115Z"), which
    Python's parsers refuse; keep microseconds and drop the rest."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if "." in text:
        head, _sep, rest = text.partition(".")
        digits = ""
        tail = ""
        for i, char in enumerate(rest):
            if char.isdigit():
                digits += char
            else:
                tail = rest[i:]
                break
        text = f"{head}.{digits[:6]}{tail}" if digits else f"{head}{tail}"
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return parse_datetime(text)


def _int(data: Mapping[str, Any], key: str, *, what: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if value is None:
        if default is not None:
            return default
        raise _bad(what, f"'{key}' is missing")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad(what, f"'{key}' is not a number")
    try:
        return int(value)
    except ValueError as exc:
        raise _bad(what, f"'{key}' is not a number") from exc


def _str(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _bad(what, "expected a JSON object")
    return data


# --- Coupons (Promotions API v1) ------------------------------------------------------------


@dataclass(frozen=True)
class Coupon:
    code: str
    utm_source: str
    utm_campaign: str
    is_archived: bool
    max_items_per_client: int
    expiration_interval_per_use: str
    max_usage: int | None
    last_modified_utc: datetime | None = None

    @classmethod
    def from_json(cls, data: Any) -> "Coupon":
        obj = _object(data, "coupon")
        code = _str(obj, "couponCode")
        if not code:
            raise _bad("coupon", "'couponCode' is missing")
        return cls(
            code=code,
            utm_source=_str(obj, "utmSource"),
            utm_campaign=_str(obj, "utmCampaign"),
            is_archived=bool(obj.get("isArchived", False)),
            max_items_per_client=_int(obj, "maxItemsPerClient", what="coupon", default=0),
            expiration_interval_per_use=_str(obj, "expirationIntervalPerUse", "00:00:00"),
            max_usage=None if obj.get("maxUsage") is None else _int(obj, "maxUsage", what="coupon"),
            last_modified_utc=parse_vtex_datetime(obj.get("lastModifiedUtc")),
        )


@dataclass(frozen=True)
class CouponUse:
    order_id: str
    profile_id: str
    used_at: datetime | None


@dataclass(frozen=True)
class CouponUsage:
    code: str
    uses: tuple[CouponUse, ...]

    @property
    def count(self) -> int:
        return len(self.uses)

    @classmethod
    def from_json(cls, data: Any, *, code: str) -> "CouponUsage":
        obj = _object(data, "coupon usage")
        profiles = obj.get("profileUsages") or {}
        if not isinstance(profiles, Mapping):
            raise _bad("coupon usage", "'profileUsages' is not an object")
        uses = []
        for profile_id, entry in profiles.items():
            for usage in (entry or {}).get("orderUsage") or []:
                uses.append(
                    CouponUse(
                        order_id=_str(usage, "orderId"),
                        profile_id=str(profile_id),
                        used_at=parse_vtex_datetime(usage.get("usageDateUtc")),
                    )
                )
        uses.sort(key=lambda use: (use.used_at is None, use.used_at or datetime.min.replace(tzinfo=UTC), use.order_id))
        return cls(code=_str(obj, "couponCode", code), uses=tuple(uses))


# --- Orders (OMS) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    """One order line. `line_total_cents` is the exact line total after item-level discounts
    (`priceDefinition.total`, falling back to `sellingPrice × quantity` on older orders)."""

    index: int
    sku_id: str
    product_id: str
    name: str
    quantity: int
    price_cents: int
    selling_price_cents: int
    line_total_cents: int
    is_gift: bool
    brand_id: str
    category_ids: tuple[str, ...]
    collection_ids: tuple[str, ...]
    price_tags: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_json(cls, data: Any, *, index: int) -> "OrderItem":
        obj = _object(data, "order item")
        quantity = _int(obj, "quantity", what="order item")
        selling = _int(obj, "sellingPrice", what="order item", default=0)
        definition = obj.get("priceDefinition") or obj.get("priceDefinitions")
        if isinstance(definition, Mapping) and definition.get("total") is not None:
            total = _int(definition, "total", what="order item")
        else:
            total = selling * quantity
        info = obj.get("additionalInfo") or {}
        categories = tuple(part for part in _str(info, "categoriesIds").split("/") if part)
        collections = tuple(part.strip() for part in _str(info, "productClusterId").split(",") if part.strip())
        return cls(
            index=index,
            sku_id=_str(obj, "id"),
            product_id=_str(obj, "productId"),
            name=_str(obj, "name"),
            quantity=quantity,
            price_cents=_int(obj, "price", what="order item", default=0),
            selling_price_cents=selling,
            line_total_cents=total,
            is_gift=bool(obj.get("isGift", False)),
            brand_id=_str(info, "brandId"),
            category_ids=categories,
            collection_ids=collections,
            price_tags=tuple(tag for tag in obj.get("priceTags") or [] if isinstance(tag, Mapping)),
        )


@dataclass(frozen=True)
class Order:
    order_id: str
    status: str
    value_cents: int
    currency: str
    creation_date: datetime | None
    last_change: datetime | None
    coupon: str
    utm_source: str
    utm_campaign: str
    items: tuple[OrderItem, ...]
    totals: Mapping[str, int]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> "Order":
        obj = _object(data, "order")
        order_id = _str(obj, "orderId")
        if not order_id:
            raise _bad("order", "'orderId' is missing")
        marketing = obj.get("marketingData") or {}
        prefs = obj.get("storePreferencesData") or {}
        totals = {_str(t, "id"): _int(t, "value", what="order totals", default=0) for t in obj.get("totals") or []}
        return cls(
            order_id=order_id,
            status=_str(obj, "status"),
            value_cents=_int(obj, "value", what="order", default=0),
            currency=_str(prefs, "currencyCode"),
            creation_date=parse_vtex_datetime(obj.get("creationDate")),
            last_change=parse_vtex_datetime(obj.get("lastChange")),
            coupon=_str(marketing, "coupon"),
            utm_source=_str(marketing, "utmSource"),
            utm_campaign=_str(marketing, "utmCampaign"),
            items=tuple(OrderItem.from_json(item, index=i) for i, item in enumerate(obj.get("items") or [])),
            totals=totals,
            raw=obj,
        )


@dataclass(frozen=True)
class OrderSummary:
    """One row of List orders (no items: VTEX stopped returning them in 2018)."""

    order_id: str
    status: str
    creation_date: datetime | None
    total_value_cents: int
    currency: str
    sequence: str

    @classmethod
    def from_json(cls, data: Any) -> "OrderSummary":
        obj = _object(data, "order list row")
        return cls(
            order_id=_str(obj, "orderId"),
            status=_str(obj, "status"),
            creation_date=parse_vtex_datetime(obj.get("creationDate")),
            total_value_cents=_int(obj, "totalValue", what="order list row", default=0),
            currency=_str(obj, "currencyCode"),
            sequence=_str(obj, "sequence"),
        )


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[OrderSummary, ...]
    total: int
    pages: int
    current_page: int
    per_page: int

    @classmethod
    def from_json(cls, data: Any) -> "OrderPage":
        obj = _object(data, "order list")
        paging = obj.get("paging") or {}
        return cls(
            orders=tuple(OrderSummary.from_json(row) for row in obj.get("list") or []),
            total=_int(paging, "total", what="order list paging", default=0),
            pages=_int(paging, "pages", what="order list paging", default=0),
            current_page=_int(paging, "currentPage", what="order list paging", default=1),
            per_page=_int(paging, "perPage", what="order list paging", default=0),
        )


# --- Orders hook ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HookConfig:
    url: str
    headers: Mapping[str, str]
    filter_type: str
    statuses: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Any) -> "HookConfig | None":
        if not data:
            return None
        obj = _object(data, "hook configuration")
        hook = obj.get("hook") or {}
        flt = obj.get("filter") or {}
        return cls(
            url=_str(hook, "url"),
            headers={str(k): str(v) for k, v in (hook.get("headers") or {}).items()},
            filter_type=_str(flt, "type"),
            statuses=tuple(str(s) for s in flt.get("status") or []),
        )
