"""VTEX: the one client for every call (`VTEXClient.for_brand(brand)`), its errors and the
typed views of the responses we use."""

from integrations.vtex.client import VTEXClient, vtex_base_url, vtex_error_message
from integrations.vtex.errors import VTEXCredentialsMissing, VTEXError, VTEXRateLimited, VTEXUnavailable
from integrations.vtex.types import (
    Coupon,
    CouponUsage,
    CouponUse,
    HookConfig,
    Order,
    OrderItem,
    OrderPage,
    OrderSummary,
)

__all__ = [
    "Coupon",
    "CouponUsage",
    "CouponUse",
    "HookConfig",
    "Order",
    "OrderItem",
    "OrderPage",
    "OrderSummary",
    "VTEXClient",
    "VTEXCredentialsMissing",
    "VTEXError",
    "VTEXRateLimited",
    "VTEXUnavailable",
    "vtex_base_url",
    "vtex_error_message",
]
