from django.urls import path

from creatives.apis import CreativeFileApi, CreativeListApi

urlpatterns = [
    path("campaigns/<int:campaign_pk>/creatives/", CreativeListApi.as_view(), name="creative-list"),
    path("campaigns/<int:campaign_pk>/creatives/<int:pk>/file", CreativeFileApi.as_view(), name="creative-file"),
]
