import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.tracing import tracing_from_settings

# Before Django loads its middleware: the Django instrumentation adds one when tracing is on.
tracing_from_settings()

_django = get_wsgi_application()

from config.machine_handler import served_application  # noqa: E402 - needs the settings
from config.warmup import process_warm  # noqa: E402 - needs the apps loaded

application = served_application(_django)  # the VTEX hook on its shorter chain

process_warm()  # before the server hands this process its first request
