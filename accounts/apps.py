from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
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
        # Every portal page asks whether the person has an authenticator (cached until one of
        # their devices changes): cache invalidation is what these signals are for here.
        from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        from accounts.two_factor import on_device_changed  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        post_save.connect(on_device_changed, sender=TOTPDevice, dispatch_uid="accounts.totp_saved")
        post_delete.connect(on_device_changed, sender=TOTPDevice, dispatch_uid="accounts.totp_deleted")
