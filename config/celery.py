"""Celery application. Tasks are thin: they take ids and call one service."""

import os

from celery import Celery

# Same default as wsgi/asgi: a worker started without settings must not run with DEBUG on.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("mgm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
