from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The influencer portal: an edge over every context (reads their selectors, calls their
    services). Nothing below imports it."""

    name = "portal"
    verbose_name = _("Influencer portal")
