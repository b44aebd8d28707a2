"""The scopes an API key can hold: one per resource and verb (`influencers:write`,
`orders:read`). A view names its resource (`scope_resource`); reads (GET, HEAD, OPTIONS and
query-style POSTs) need `<resource>:read`, everything else `<resource>:write`."""

from django.utils.translation import gettext_lazy as _

RESOURCES: dict[str, object] = {
    "brands": _("brands"),
    "campaigns": _("campaigns"),
    "influencers": _("influencers and memberships"),
    "codes": _("discount codes"),
    "links": _("tracked links"),
    "orders": _("orders"),
    "commissions": _("commissions"),
    "claims": _("missing-order claims"),
    "withdrawals": _("withdrawals"),
    "ledger": _("balances, ledger entries and payout batches"),
    "reports": _("reports"),
    "webhooks": _("webhook endpoints and deliveries"),
}
# Resources that have no write endpoint: their `:write` scope does not exist.
READ_ONLY_RESOURCES = frozenset({"brands", "orders", "commissions", "withdrawals", "ledger", "reports"})

SCOPES: list[str] = [
    f"{resource}:{verb}"
    for resource in RESOURCES
    for verb in ("read", "write")
    if verb == "read" or resource not in READ_ONLY_RESOURCES
]
READ_SCOPES: list[str] = [s for s in SCOPES if s.endswith(":read")]

# A staff session writing through the API needs the Django permission the admin asks for.
STAFF_WRITE_PERMISSIONS: dict[str, str] = {
    "campaigns": "campaigns.change_campaign",
    "influencers": "affiliates.change_membership",
    "codes": "codes.change_code",
    "links": "tracking.change_link",
    "claims": "claims.add_claim",
    "webhooks": "webhooks.change_webhookendpoint",
}


def scope_choices() -> list[tuple[str, str]]:
    labels = {"read": _("read"), "write": _("create and change")}
    return [(s, f"{s} — {RESOURCES[s.split(':')[0]]}: {labels[s.split(':')[1]]}") for s in SCOPES]


def scopes_clean(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """Known scopes only, in the canonical order; raises ValueError naming an unknown one."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(", ".join(sorted(unknown)))
    wanted = set(scopes)
    return [s for s in SCOPES if s in wanted]
