from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from accounts import views as account_views
from backoffice import views as backoffice_views
from core import views as core_views

urlpatterns = [
    path("", backoffice_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/2fa/", account_views.two_factor, name="two_factor"),
    path("accounts/", include("allauth.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("", include("affiliates.urls")),  # /join/<brand>/
    path("", include("portal.urls")),  # /portal/ and every influencer page under it
    path("", include("tracking.urls")),  # /r/<slug> (redirect), /t/conversion
]

# A refused action is a translated page with a way back, never a bare "403 Forbidden".
handler403 = backoffice_views.permission_denied
