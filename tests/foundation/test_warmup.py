"""A web process loads what Django loads lazily before its first request (config/warmup.py), and
what only a rare request needs stays out of that load."""

import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import get_resolver
from django.utils import translation

from config.warmup import _template_names, _templates_cached, process_warm


def test_warm_up_builds_every_language_reverse_index_and_loads_every_template(caplog):
    resolver = get_resolver()
    with caplog.at_level(logging.WARNING, logger="config.warmup"):
        process_warm()
    assert caplog.records == []  # every template listed compiled
    # The reverse index is per language: each one is built now, not in a request.
    populated = set(resolver._reverse_dict)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            assert translation.get_language() in populated
    names = _template_names()
    assert "portal/base.html" in names
    assert "admin/change_list.html" in names


def test_a_template_that_does_not_load_is_logged_not_raised(caplog, monkeypatch):
    monkeypatch.setattr("config.warmup.ADMIN_TEMPLATES", ("admin/no-such-page.html",))
    with caplog.at_level(logging.WARNING, logger="config.warmup"):
        process_warm()
    assert [r.getMessage() for r in caplog.records] == ["warm-up: template admin/no-such-page.html did not load"]


def test_with_debug_templates_are_not_compiled_ahead(monkeypatch):
    # Without the cached loader nothing would keep them: runserver's reloads stay quick.
    monkeypatch.setattr("config.warmup._templates_cached", lambda: False)
    compiled: list[str] = []
    monkeypatch.setattr("config.warmup.get_template", compiled.append)
    process_warm()
    assert compiled == []


def test_the_test_settings_keep_compiled_templates():
    assert _templates_cached()  # so the first test above compiles every template


@pytest.mark.timeout(120)
def test_the_urlconf_does_not_import_the_pdf_library():
    # fpdf2 and fontTools took ~1 s of every web process's first request; only the statement
    # download needs them, and imports them itself.
    code = (
        "import sys, django; django.setup(); "
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fpdf', 'fontTools'}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test")}
    done = subprocess.run(  # noqa: S603 our own interpreter, a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=settings.BASE_DIR, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
