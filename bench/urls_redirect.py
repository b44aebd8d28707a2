from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path

from config.urls import urlpatterns as base_patterns


def bare_redirect(request: HttpRequest) -> HttpResponse:
    """The floor: the same middleware stack, a view that only redirects."""
    return HttpResponseRedirect("https://www.bench.example/")


urlpatterns = [path("bench/bare", bare_redirect), *base_patterns]
