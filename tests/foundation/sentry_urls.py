"""A view that fails with personal data in its request and local variables (test_sentry.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def fails(request: HttpRequest) -> HttpResponse:
    email = request.POST["email"]
    document_number = request.POST["document_number"]
    # Values from the request, not literals: the source lines around a frame go to Sentry too.
    profile = {key: request.POST[key] for key in ("full_name", "phone", "pix_key")}
    raise RuntimeError(f"payout failed for influencer #{len(email) + len(document_number) + len(profile)}")


urlpatterns = [path("fails/", fails)]
