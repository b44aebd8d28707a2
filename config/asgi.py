"""ASGI entry point (granian --interface asgi): the click edge in front of Django's ASGI
application, one process (config/click_edge.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

django_application = get_asgi_application()

from config.click_edge import ClickEdge  # noqa: E402 - needs the apps loaded

application = ClickEdge(django_application)
