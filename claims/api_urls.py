from django.urls import path

from claims.apis import ClaimListCreateApi

urlpatterns = [
    path("claims/", ClaimListCreateApi.as_view(), name="claim-list"),
]
