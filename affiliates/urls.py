from django.urls import path

from affiliates import views

app_name = "affiliates"

urlpatterns = [
    path("join/<slug:brand_slug>/", views.join, name="join"),
    path("join/<slug:brand_slug>/sent/", views.join_done, name="join_done"),
    path("join/<slug:brand_slug>/<str:kind>/", views.policy_detail, name="policy"),
    path("portal/", views.portal_home, name="portal"),
    path("portal/<slug:brand_slug>/", views.portal_dashboard, name="portal_dashboard"),
    path("portal/<slug:brand_slug>/codes/", views.portal_codes, name="portal_codes"),
    path("portal/<slug:brand_slug>/codes/<int:code_pk>/qr.svg", views.portal_code_qr, name="portal_code_qr"),
    path("portal/<slug:brand_slug>/orders/", views.portal_orders, name="portal_orders"),
    path("portal/<slug:brand_slug>/earnings/", views.portal_earnings, name="portal_earnings"),
    path("portal/<slug:brand_slug>/profile/", views.portal_profile, name="portal_profile"),
    path("portal/<slug:brand_slug>/payout/", views.portal_payout, name="portal_payout"),
    path("portal/<slug:brand_slug>/security/", views.portal_security, name="portal_security"),
    path(
        "portal/<slug:brand_slug>/security/disable-2fa/",
        views.portal_security_disable,
        name="portal_security_disable",
    ),
]
