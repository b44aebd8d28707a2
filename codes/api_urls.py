from django.urls import path

from codes.apis import CodeArchiveApi, CodeListIssueApi

urlpatterns = [
    path("codes/", CodeListIssueApi.as_view(), name="code-list"),
    path("codes/<int:pk>/archive", CodeArchiveApi.as_view(), name="code-archive"),
]
