"""The back office's navigation, grouped by the work people come to do rather than by app.

Django's admin lists ~20 apps alphabetically, infrastructure included. Here each registered model
belongs to one group of work (Influencers, Campaigns & codes, Orders & commissions, Payouts,
Reports, Settings); infrastructure and internals (two-factor devices, sites, Celery schedules,
ledger internals, raw VTEX notifications) sit in "System", shown to superusers only. A model of an
app not named below (a new app, a library's) lands in System until someone places it, so nothing
internal reaches a manager by accident. Permissions still decide which rows a person sees.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class WorkGroup:
    slug: str
    name: str | Promise
    superuser_only: bool = False


INFLUENCERS = WorkGroup("influencers", _("Influencers"))
CAMPAIGNS = WorkGroup("campaigns", _("Campaigns & codes"))
ORDERS = WorkGroup("orders", _("Orders & commissions"))
PAYOUTS = WorkGroup("payouts", _("Payouts"))
REPORTS = WorkGroup("reports", pgettext_lazy("back office section", "Reports"))
SETTINGS = WorkGroup("settings", pgettext_lazy("back office section", "Settings"))
SYSTEM = WorkGroup("system", pgettext_lazy("back office section", "System"), superuser_only=True)

GROUPS = (INFLUENCERS, CAMPAIGNS, ORDERS, PAYOUTS, REPORTS, SETTINGS, SYSTEM)

# Where an app's models go unless the model is placed on its own below.
APP_GROUPS: dict[str, WorkGroup] = {
    "affiliates": INFLUENCERS,
    "campaigns": CAMPAIGNS,
    "codes": CAMPAIGNS,
    "tracking": CAMPAIGNS,
    "creatives": CAMPAIGNS,
    "orders": ORDERS,
    "commissions": ORDERS,
    "claims": ORDERS,
    "payments": PAYOUTS,
    "reports": REPORTS,
    "brands": SETTINGS,
    "accounts": SETTINGS,
    "webhooks": SETTINGS,
    "notifications": SETTINGS,
    "audit": SETTINGS,
}

# "app_label.model_name" -> group, where a model's work differs from its app's.
MODEL_GROUPS: dict[str, WorkGroup] = {
    "tracking.fraudflag": INFLUENCERS,
    "tracking.influencerrisk": INFLUENCERS,
    "tracking.click": ORDERS,
    "tracking.conversion": ORDERS,
    "tracking.manualattribution": ORDERS,
    "tracking.customerbinding": SYSTEM,
    "orders.hookevent": SYSTEM,
    "orders.hookregistration": SETTINGS,
    "payments.ledgertransaction": SYSTEM,
    "payments.ledgerentry": SYSTEM,
    "payments.ledgeraccount": SYSTEM,
    "payments.commissionposition": SYSTEM,
    "payments.paymentjob": SYSTEM,
    "audit.auditexport": SYSTEM,
    "accounts.user": SYSTEM,
    "account.emailaddress": SYSTEM,
    "auth.group": SYSTEM,
    "webhooks.webhookmessage": SYSTEM,
}

# Order inside a group: the queue people work first, then the rest alphabetically.
FIRST: dict[str, int] = {
    "affiliates.membership": 0,
    "tracking.fraudflag": 1,
    "affiliates.influencer": 2,
    "campaigns.campaign": 0,
    "codes.code": 1,
    "tracking.link": 2,
    "creatives.creative": 3,
    "orders.order": 0,
    "commissions.commission": 1,
    "orders.discrepancy": 2,
    "claims.claim": 3,
    "payments.withdrawal": 0,
    "payments.payoutbatch": 1,
    "reports.savedreport": 0,
    "brands.brand": 0,
}


def group_of(app_label: str, model_name: str) -> WorkGroup:
    return MODEL_GROUPS.get(f"{app_label}.{model_name}") or APP_GROUPS.get(app_label) or SYSTEM


def work_groups(app_list: list[dict[str, Any]], *, superuser: bool, group_url: Any) -> list[dict[str, Any]]:
    """Regroup Django's app list (already filtered by the person's permissions) by work.

    `group_url(slug)` gives the page of one group. Returns dicts shaped like Django's app dicts so
    the admin's own templates (index, sidebar) render them."""
    models: dict[str, list[dict[str, Any]]] = {group.slug: [] for group in GROUPS}
    for app in app_list:
        for model in app["models"]:
            key = f"{app['app_label']}.{model['object_name'].lower()}"
            group = group_of(app["app_label"], model["object_name"].lower())
            models[group.slug].append({**model, "nav_key": key})
    result = []
    for group in GROUPS:
        if group.superuser_only and not superuser:
            continue
        rows = sorted(models[group.slug], key=lambda m: (FIRST.get(m["nav_key"], 99), str(m["name"]).lower()))
        if rows:
            result.append(
                {
                    "name": group.name,
                    "app_label": f"work-{group.slug}",
                    "app_url": group_url(group.slug),
                    "has_module_perms": True,
                    "models": rows,
                }
            )
    return result


def group_by_slug(slug: str) -> WorkGroup | None:
    return next((group for group in GROUPS if group.slug == slug), None)
