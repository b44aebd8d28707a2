from django.urls import path

from reports.apis import ReportQueryAPI

urlpatterns = [path("reports/", ReportQueryAPI.as_view(), name="reports")]
