from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from creatives.models import Creative

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_demo_campaign_library_once(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.VTEX_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens: VTEX unreachable
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=StringIO())
    library = Creative.objects.filter(campaign__slug="lanzamiento", is_active=True)
    assert sorted(library.values_list("kind", flat=True)) == ["caption", "caption", "guidelines", "image", "video"]
    image = library.get(kind="image")
    assert image.content_type == "image/jpeg"
    assert image.thumbnail
    assert library.get(kind="guidelines").content_type == "application/pdf"
