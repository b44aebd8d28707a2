from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and access")

    def ready(self) -> None:
        # Roles need the permission rows, which exist only after migrate: keep the groups in
        # step with accounts.roles every time the schema changes. Plumbing, not domain logic.
        from accounts.roles import roles_sync_on_migrate  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        post_migrate.connect(roles_sync_on_migrate, dispatch_uid="accounts.roles_sync")
        # allauth and the admin build absolute links from the Sites row: never "example.com".
        from accounts.email_branding import site_sync_on_migrate  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        post_migrate.connect(site_sync_on_migrate, dispatch_uid="accounts.site_sync")
