"""ASGI entry point (granian --interface asgi): the click edge answers `/r/<slug>` on the event
loop (config/click_edge.py); everything else is Django's WSGI handler on a bounded pool of
threads (config/wsgi_bridge.py), one process."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.tracing import tracing_from_settings

# Before Django loads its middleware: the Django instrumentation adds one when tracing is on.
tracing_from_settings()

_wsgi = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after the settings module is chosen

from config.click_edge import ClickEdge  # noqa: E402 - needs the apps loaded
from config.machine_handler import served_application  # noqa: E402
from config.warmup import process_warm  # noqa: E402
from config.wsgi_bridge import WsgiBridge  # noqa: E402

process_warm()  # before granian hands this process its first request

# As many threads as the edge lets requests into Django at once: a thread never waits for work
# the edge has admitted, and never more threads than pooled connections.
# The VTEX hook runs through a shorter middleware chain (config/machine_handler.py).
django_application = WsgiBridge(served_application(_wsgi), threads=settings.WEB_DJANGO_CONCURRENCY)

application = ClickEdge(django_application)
