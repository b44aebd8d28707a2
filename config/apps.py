from django.contrib.admin.apps import AdminConfig


class MGMAdminConfig(AdminConfig):
    """The back office: Django's admin with 2FA and brand scoping (backoffice.admin_site)."""

    default_site = "backoffice.admin_site.MGMAdminSite"
