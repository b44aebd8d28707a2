from django.urls import path

from webhooks.apis import (
    DeliveryListApi,
    DeliveryReplayApi,
    EndpointDetailApi,
    EndpointListCreateApi,
    EndpointRotateSecretApi,
)

urlpatterns = [
    path("webhook-endpoints/", EndpointListCreateApi.as_view(), name="webhook-endpoint-list"),
    path("webhook-endpoints/<int:pk>/", EndpointDetailApi.as_view(), name="webhook-endpoint-detail"),
    path("webhook-endpoints/<int:pk>/rotate-secret", EndpointRotateSecretApi.as_view(), name="webhook-endpoint-rotate"),
    path("webhook-deliveries/", DeliveryListApi.as_view(), name="webhook-delivery-list"),
    path("webhook-deliveries/<int:pk>/replay", DeliveryReplayApi.as_view(), name="webhook-delivery-replay"),
]
