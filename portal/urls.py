"""The influencer portal, under /portal/ (paths unchanged since they moved here from
affiliates and payments; names are `portal:<page>`)."""

from django.urls import path

from portal.views import account, claims, consent, creatives, exports, links, money, notifications, pages, referrals

app_name = "portal"

urlpatterns = [
    path("portal/", pages.home, name="home"),
    path("portal/<slug:brand_slug>/", pages.dashboard, name="dashboard"),
    path("portal/<slug:brand_slug>/codes/", pages.codes, name="codes"),
    path("portal/<slug:brand_slug>/codes/<int:code_pk>/qr.svg", pages.code_qr, name="code_qr"),
    path("portal/<slug:brand_slug>/links/", links.links, name="links"),
    path("portal/<slug:brand_slug>/links/<int:link_pk>/", links.link, name="link"),
    path("portal/<slug:brand_slug>/links/<int:link_pk>/qr.svg", links.link_qr, name="link_qr"),
    path("portal/<slug:brand_slug>/links/<int:link_pk>/disable/", links.link_disable, name="link_disable"),
    path("portal/<slug:brand_slug>/creatives/", creatives.creatives, name="creatives"),
    path(
        "portal/<slug:brand_slug>/creatives/<int:pk>/thumbnail.jpg",
        creatives.creative_thumbnail,
        name="creative_thumbnail",
    ),
    path(
        "portal/<slug:brand_slug>/creatives/<int:pk>/download/", creatives.creative_download, name="creative_download"
    ),
    path("portal/<slug:brand_slug>/creatives/file/<str:token>/", creatives.creative_file, name="creative_file"),
    path("portal/<slug:brand_slug>/orders/", pages.orders, name="orders"),
    path("portal/<slug:brand_slug>/earnings/", pages.earnings, name="earnings"),
    path("portal/<slug:brand_slug>/claims/", claims.claims, name="claims"),
    path("portal/<slug:brand_slug>/referrals/", referrals.referrals, name="referrals"),
    path("portal/<slug:brand_slug>/withdrawals/", money.withdrawals, name="withdrawals"),
    path("portal/<slug:brand_slug>/statements/", money.statements, name="statements"),
    path("portal/<slug:brand_slug>/statements/<str:period>/", money.statement, name="statement"),
    path("portal/<slug:brand_slug>/statements/<str:period>/pdf/", money.statement_pdf, name="statement_pdf"),
    path("portal/<slug:brand_slug>/export/<slug:kind>.<slug:fmt>", exports.export, name="export"),
    path("portal/<slug:brand_slug>/consent/", consent.consent, name="consent"),
    path("portal/<slug:brand_slug>/notifications/", notifications.notifications, name="notifications"),
    path("portal/<slug:brand_slug>/notifications/read/", notifications.notifications_read, name="notifications_read"),
    path(
        "portal/<slug:brand_slug>/notifications/<int:pk>/read/",
        notifications.notifications_read,
        name="notification_read",
    ),
    path("portal/<slug:brand_slug>/profile/", account.profile, name="profile"),
    path("portal/<slug:brand_slug>/payout/", account.payout, name="payout"),
    path("portal/<slug:brand_slug>/security/", account.security, name="security"),
    path("portal/<slug:brand_slug>/security/disable-2fa/", account.security_disable, name="security_disable"),
]
