from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from brands.selectors import brand_public_list


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what the platform is, the way into the back office or the sign-in,
    and the brands that take applications."""
    return render(request, "backoffice/home.html", {"brands": brand_public_list()})
