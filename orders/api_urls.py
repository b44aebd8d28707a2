from django.urls import path

from orders.apis import OrderDetailApi, OrderListApi
from orders.webhooks import vtex_order_hook

urlpatterns = [
    path("webhooks/vtex/<slug:brand_slug>/orders/", vtex_order_hook, name="vtex-order-hook"),
    path("orders/", OrderListApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", OrderDetailApi.as_view(), name="order-detail"),
]
