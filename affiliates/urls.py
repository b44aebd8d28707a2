from django.urls import path

from affiliates import views

app_name = "affiliates"

urlpatterns = [
    path("join/<slug:brand_slug>/", views.join, name="join"),
    path("join/<slug:brand_slug>/sent/", views.join_done, name="join_done"),
    path("join/<slug:brand_slug>/document-types/", views.join_document_types, name="join_document_types"),
    path("join/<slug:brand_slug>/<str:kind>/", views.policy_detail, name="policy"),
]
