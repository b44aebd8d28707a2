"""Influencer portal pages of payments, under the brand's portal: /portal/<brand>/withdrawals/…"""

from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("portal/<slug:brand_slug>/withdrawals/", views.portal_withdrawals, name="portal_withdrawals"),
    path("portal/<slug:brand_slug>/statements/", views.portal_statements, name="portal_statements"),
    path("portal/<slug:brand_slug>/statements/<str:period>/", views.portal_statement, name="portal_statement"),
    path(
        "portal/<slug:brand_slug>/statements/<str:period>/pdf/", views.portal_statement_pdf, name="portal_statement_pdf"
    ),
]
