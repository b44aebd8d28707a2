"""Roles are Django groups with a declared set of permissions. Other contexts add their models'
permissions here as they grow; `roles_sync` makes the groups match this table exactly."""

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

MANAGER = "Manager"
FINANCE = "Finance"
BRAND_VIEWER = "Brand viewer"

# app_label -> {role -> actions}; "view" everywhere a role can read.
ROLE_PERMISSIONS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    MANAGER: {
        "brands": {"brand": ("view", "change")},
        "campaigns": {
            "campaign": ("view", "add", "change"),
            "campaignvariant": ("view", "add", "change", "delete"),
            "campaigneligibility": ("view", "add", "change", "delete"),
            "commissionrule": ("view", "add", "change", "delete"),
            "commissiontier": ("view", "add", "change", "delete"),
            "campaignassignment": ("view", "add", "change"),
        },
        "codes": {"code": ("view", "add", "change")},
        "affiliates": {
            "influencer": ("view", "change"),
            "membership": ("view", "add", "change"),
            "kycdocument": ("view",),  # opening KYC files is for managers only
            "policydocument": ("view", "add"),
            "policyacceptance": ("view",),
        },
        "audit": {"auditevent": ("view",)},
        "accounts": {"apikey": ("view", "add", "change")},
        "payments": {
            "withdrawal": ("view",),
            "payoutbatch": ("view",),
            "withholdingrule": ("view",),
            "payoutsettings": ("view",),
            "ledgertransaction": ("view",),
            "ledgerentry": ("view",),
            "ledgeraccount": ("view",),
            "commissionposition": ("view",),
        },
        "tracking": {
            "link": ("view", "add", "change"),
            "fraudflag": ("view", "change"),  # change = release/reject in the review queue
            "attributionpolicy": ("view", "change"),
            "click": ("view",),
            "conversion": ("view",),
            "customerbinding": ("view",),
            "influencerrisk": ("view",),
        },
        "webhooks": {
            "webhookendpoint": ("view", "add", "change"),
            "webhookdelivery": ("view",),
            "webhookmessage": ("view",),
        },
    },
    FINANCE: {
        "brands": {"brand": ("view",)},
        "campaigns": {
            "campaign": ("view",),
            "campaignvariant": ("view",),
            "campaigneligibility": ("view",),
            "commissionrule": ("view",),
            "commissiontier": ("view",),
            "campaignassignment": ("view",),
        },
        "codes": {"code": ("view",)},
        "affiliates": {"influencer": ("view",), "membership": ("view",)},
        "audit": {"auditevent": ("view",)},
        "payments": {
            "withdrawal": ("view", "change", "approve", "pay"),
            "payoutbatch": ("view", "export"),
            "withholdingrule": ("view", "add", "change"),
            "payoutsettings": ("view", "add", "change"),
            "ledgertransaction": ("view",),
            "ledgerentry": ("view",),
            "ledgeraccount": ("view",),
            "commissionposition": ("view",),
            "bankexport": ("view",),
        },
        "tracking": {
            "link": ("view",),
            "fraudflag": ("view",),
            "attributionpolicy": ("view",),
            "click": ("view",),
            "conversion": ("view",),
        },
    },
    BRAND_VIEWER: {
        "brands": {"brand": ("view",)},
        "campaigns": {
            "campaign": ("view",),
            "campaignvariant": ("view",),
            "campaigneligibility": ("view",),
            "commissionrule": ("view",),
            "commissiontier": ("view",),
            "campaignassignment": ("view",),
        },
        "codes": {"code": ("view",)},
        "affiliates": {"influencer": ("view",), "membership": ("view",)},
        "tracking": {
            "link": ("view",),
            "fraudflag": ("view",),
            "attributionpolicy": ("view",),
            "click": ("view",),
            "conversion": ("view",),
        },
    },
}

# orders and commissions: everyone reads them; managers reprocess orders and notifications and
# adjust commissions (with a reason, audited).
_ORDERS_READ = {
    "order": ("view",),
    "orderline": ("view",),
    "orderstatuschange": ("view",),
    "returninvoice": ("view",),
    "hookevent": ("view",),
    "hookregistration": ("view",),
    "reconciliationrun": ("view",),
    "discrepancy": ("view",),
}
for _role in (MANAGER, FINANCE, BRAND_VIEWER):
    ROLE_PERMISSIONS[_role]["orders"] = dict(_ORDERS_READ)
    ROLE_PERMISSIONS[_role]["commissions"] = {"commission": ("view",), "commissionadjustment": ("view",)}
# Managers and finance close reconciliation discrepancies (marked handled with a note).
for _role in (MANAGER, FINANCE):
    ROLE_PERMISSIONS[_role]["orders"]["discrepancy"] = ("view", "change")
ROLE_PERMISSIONS[MANAGER]["commissions"] = {
    "commission": ("view", "change"),
    "commissionadjustment": ("view", "add"),
}

# referrals (issue 19): managers set a campaign's referral program; everyone scoped to the brand
# reads referrals and their rewards.
ROLE_PERMISSIONS[MANAGER]["campaigns"]["referralprogram"] = ("view", "add", "change")
for _role in (FINANCE, BRAND_VIEWER):
    ROLE_PERMISSIONS[_role]["campaigns"]["referralprogram"] = ("view",)
for _role in (MANAGER, FINANCE, BRAND_VIEWER):
    ROLE_PERMISSIONS[_role]["affiliates"]["referral"] = ("view",)
    ROLE_PERMISSIONS[_role]["commissions"]["referralcommission"] = ("view",)

# creatives library (issue 19): managers upload and archive a campaign's creatives; finance and
# viewers of the brand see them.
ROLE_PERMISSIONS[MANAGER]["creatives"] = {"creative": ("view", "add", "change")}
for _role in (FINANCE, BRAND_VIEWER):
    ROLE_PERMISSIONS[_role]["creatives"] = {"creative": ("view",)}

# notification emails (issue 16): managers word the brand's emails; finance and viewers read them.
ROLE_PERMISSIONS[MANAGER]["notifications"] = {"emailtext": ("view", "add", "change")}
for _role in (FINANCE, BRAND_VIEWER):
    ROLE_PERMISSIONS[_role]["notifications"] = {"emailtext": ("view",)}

# reports: managers and finance build, save, share and schedule reports.
for _role in (MANAGER, FINANCE):
    ROLE_PERMISSIONS[_role]["reports"] = {
        "savedreport": ("view", "add", "change", "delete"),
        "scheduledreport": ("view", "add", "change"),
        "reportdelivery": ("view",),
    }

# missing-order claims (issue 19): managers decide them (accept/reject with a reason) and see the
# manual attributions they make; finance and viewers read them.
ROLE_PERMISSIONS[MANAGER]["claims"] = {"claim": ("view", "change")}
ROLE_PERMISSIONS[MANAGER]["tracking"]["manualattribution"] = ("view",)
for _role in (FINANCE, BRAND_VIEWER):
    ROLE_PERMISSIONS[_role]["claims"] = {"claim": ("view",)}
    ROLE_PERMISSIONS[_role]["tracking"]["manualattribution"] = ("view",)

# Operator jobs (backoffice): managers keep the VTEX hook, reconciliation and report rollups
# right; finance verifies the ledger and reconciles days.
ROLE_PERMISSIONS[MANAGER]["backoffice"] = {"operatorjob": ("view", "hook", "reconcile", "rebuild", "reprocess")}
ROLE_PERMISSIONS[FINANCE]["backoffice"] = {"operatorjob": ("view", "verifyledger", "reconcile")}


def _permissions_for(spec: dict[str, dict[str, tuple[str, ...]]]) -> list[Permission]:
    query = Q(pk__in=[])
    for app_label, models in spec.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            query |= Q(content_type__app_label=app_label, content_type__model=model, codename__in=codenames)
    return list(Permission.objects.filter(query))


def roles_sync() -> dict[str, int]:
    """Create the role groups and set their permissions to exactly the declared ones."""
    counts = {}
    for role, spec in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = _permissions_for(spec)
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


def roles_sync_on_migrate(**kwargs: Any) -> None:
    # post_migrate fires once per app, and each app's permissions are created by its own
    # signal: wait for the last app so every permission row exists.
    if kwargs.get("app_config") is list(apps.get_app_configs())[-1]:
        roles_sync()
