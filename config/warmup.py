"""Work a web process does once, before it takes its first request.

Django loads lazily: the URLconf (and with it every view module) on the first request, a
language's catalogue the first time it is activated, a template the first time it renders. A
process started under load (a deploy, a restarted worker) paid all of that inside its first
requests, ~2.5 s of CPU with every request behind them waiting (measured in bench/users_bench.py:
the backlog of a cold start took most of a minute to drain at 1,000 users). Doing it while the
server loads the application moves the cost to before the worker listens.
"""

import gc
import logging
import time
from pathlib import Path
from typing import cast

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.loader import get_template
from django.template.loaders.cached import Loader as CachedLoader
from django.urls import get_resolver, reverse
from django.utils import translation

logger = logging.getLogger(__name__)

#: The back office's pages every list and form extends (django-unfold's, under admin/).
ADMIN_TEMPLATES = ("admin/index.html", "admin/change_list.html", "admin/change_form.html", "admin/login.html")


def process_warm() -> None:
    started = time.perf_counter()
    _ = get_resolver().url_patterns  # evaluating it imports every view module
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Dashboard")  # loads (and merges) the language's catalogues
            # The URL resolver builds its reverse index per language, on the first reverse():
            # 0.15-0.3 s of regex normalising.
            reverse("admin:index")
    for name in _template_names() if _templates_cached() else []:
        try:
            get_template(name)  # compiled once into the cached loader (DEBUG off)
        except (TemplateDoesNotExist, TemplateSyntaxError):
            logger.warning("warm-up: template %s did not load", name)
    # What the process has built by now (modules, URL patterns, catalogues, compiled templates)
    # lives as long as it does. Frozen, the collector stops walking it: a full collection of a
    # warmed web process paused every thread of it for 160-180 ms (measured in process on the
    # users bench's pages, about once every 1,500 requests), and a forked child (Celery's pool)
    # keeps sharing those memory pages instead of copying them when the collector touches them.
    gc.collect()
    gc.freeze()
    logger.info("process warmed in %.2f s", time.perf_counter() - started)


def _templates_cached() -> bool:
    """Whether compiled templates are kept (DEBUG off): with DEBUG on (`make run`, runserver's
    every reload) each render compiles afresh, and compiling them here would be wasted."""
    engine = engines["django"].engine  # type: ignore[attr-defined]
    return any(isinstance(loader, CachedLoader) for loader in engine.template_loaders)


def _template_names() -> list[str]:
    names = list(ADMIN_TEMPLATES)
    directories = cast(list[str | Path], settings.TEMPLATES[0]["DIRS"])
    for directory in directories:
        root = Path(directory)
        names += sorted(str(path.relative_to(root)) for path in root.rglob("*.html"))
    return names
