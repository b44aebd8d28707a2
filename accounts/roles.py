"""Roles are Django groups with a declared set of permissions. Other contexts add their models'
permissions here as they grow; `roles_sync` makes the groups match this table exactly."""

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

MANAGER = "Manager"
FINANCE = "Finance"
BRAND_VIEWER = "Brand viewer"

# app_label -> {role -> actions}; "view" everywhere a role can read.
ROLE_PERMISSIONS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    MANAGER: {
        "campaigns": {
            "brand": ("view", "change"),
            "campaign": ("view", "add", "change"),
        },
        "affiliates": {"influencer": ("view", "change"), "membership": ("view", "add", "change")},
        "audit": {"auditevent": ("view",)},
        "accounts": {"apikey": ("view", "add", "change")},
    },
    FINANCE: {
        "campaigns": {"brand": ("view",), "campaign": ("view",)},
        "affiliates": {"influencer": ("view",), "membership": ("view",)},
        "audit": {"auditevent": ("view",)},
    },
    BRAND_VIEWER: {
        "campaigns": {"brand": ("view",), "campaign": ("view",)},
        "affiliates": {"influencer": ("view",), "membership": ("view",)},
    },
}


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
    from django.apps import apps

    # post_migrate fires once per app, and each app's permissions are created by its own
    # signal: wait for the last app so every permission row exists.
    if kwargs.get("app_config") is list(apps.get_app_configs())[-1]:
        roles_sync()
