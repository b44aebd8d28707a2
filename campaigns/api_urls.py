from django.urls import path

from campaigns.apis import BrandDetailApi, BrandListApi

urlpatterns = [
    path("brands/", BrandListApi.as_view(), name="brand-list"),
    path("brands/<slug:slug>/", BrandDetailApi.as_view(), name="brand-detail"),
]
