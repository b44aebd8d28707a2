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

        # Every portal page asks whether a policy is pending (cached until one changes).
        from django.db.models.signals import post_delete, post_save  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        from affiliates.models import PolicyAcceptance, PolicyDocument  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry
        from affiliates.selectors import on_acceptance_changed, on_policy_changed  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

        for signal in (post_save, post_delete):
            signal.connect(
                on_policy_changed, sender=PolicyDocument, dispatch_uid=f"affiliates.policy_{signal is post_save}"
            )
            signal.connect(
                on_acceptance_changed,
                sender=PolicyAcceptance,
                dispatch_uid=f"affiliates.acceptance_{signal is post_save}",
            )
