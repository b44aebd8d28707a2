"""`/api/v1/`: each context adds its own `api_urls.py` here."""

from typing import Any

from django.conf import settings
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

app_name = "api"

# The schema describes the API, it holds no data: anyone may read it and its docs page.
# Swagger UI sets inline styles, so its page (only) allows them; scripts stay 'self' + nonce.
_docs_csp: dict[str, Any] = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}

urlpatterns = [
    # First: VTEX's order hook is the hottest path of the API, and Django tries patterns in order
    # (after the other contexts' includes it was ~40 regex matches per notification).
    path("", include("orders.api_urls")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        csp_override(_docs_csp)(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny])
        ),
        name="docs",
    ),
    path("", include("campaigns.api_urls")),
    path("", include("affiliates.api_urls")),
    path("", include("codes.api_urls")),
    path("", include("tracking.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("commissions.api_urls")),
    path("", include("creatives.api_urls")),
    path("", include("claims.api_urls")),
    path("", include("reports.api_urls")),
    path("", include("webhooks.api_urls")),
]
