"""The serving composition compose used before bench/serving_bench.py measured it: the click
edge in front of Django's own ASGI handler (kept here as the benchmark's baseline)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_serving")

_django = get_asgi_application()

from config.click_edge import ClickEdge  # noqa: E402 - needs the apps loaded

application = ClickEdge(_django)
