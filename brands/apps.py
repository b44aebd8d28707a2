from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrandsConfig(AppConfig):
    """The tenant: brands, who on staff may see which brand, and the one scoping rule. Every
    context above builds on it, so it sits low and imports none of them (decision 0022)."""

    name = "brands"
    verbose_name = _("Brands")
