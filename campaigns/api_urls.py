from django.urls import path

from campaigns.apis import BrandDetailApi, BrandListApi, CampaignDetailApi, CampaignListCreateApi, CampaignStatusApi

urlpatterns = [
    path("brands/", BrandListApi.as_view(), name="brand-list"),
    path("brands/<slug:slug>/", BrandDetailApi.as_view(), name="brand-detail"),
    path("campaigns/", CampaignListCreateApi.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>/", CampaignDetailApi.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/status", CampaignStatusApi.as_view(), name="campaign-status"),
]
