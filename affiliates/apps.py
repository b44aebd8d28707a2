from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AffiliatesConfig(AppConfig):
    name = "affiliates"
    verbose_name = _("Influencers")

    def ready(self) -> None:
        # Password reset and confirmation emails (sent by accounts, below us) carry the
        # influencer's brand: accounts asks through this registry.
        from accounts.email_branding import email_branding_register  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
        from affiliates.selectors import influencer_email_branding  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        email_branding_register(influencer_email_branding)
