from django.urls import path

from tracking.apis import LinkDisableApi, LinkListCreateApi

urlpatterns = [
    path("links/", LinkListCreateApi.as_view(), name="link-list"),
    path("links/<int:pk>/disable", LinkDisableApi.as_view(), name="link-disable"),
]
