"""Serving a creative's thumbnail to someone already authorised (the admin, the portal)."""

from django.http import HttpResponse

from creatives.models import Creative


def thumbnail_response(creative: Creative) -> HttpResponse:
    """The small JPEG of an image piece, shown inline to someone already authorised. Streamed by
    us (not a redirect to the store) so the page's CSP (img-src 'self') holds everywhere."""
    with creative.thumbnail.open("rb") as handle:
        body = handle.read()
    response = HttpResponse(body, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
