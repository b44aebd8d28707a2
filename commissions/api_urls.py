from django.urls import path

from commissions.apis import CommissionListApi

urlpatterns = [
    path("commissions/", CommissionListApi.as_view(), name="commission-list"),
]
