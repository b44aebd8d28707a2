from django.urls import path

from reports.apis import LinkStatsAPI, ReportQueryAPI

urlpatterns = [
    path("reports/", ReportQueryAPI.as_view(), name="reports"),
    path("links/<int:pk>/stats", LinkStatsAPI.as_view(), name="link-stats"),
]
