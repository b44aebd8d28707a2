"""The VTEX hook as the server runs it: through the served WSGI application, whose machine
endpoints get the configured middleware chain minus what only browsers need
(config/machine_handler.py). Django's test client always loads the whole chain, so these tests
call the served application itself."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from config.machine_handler import MachineWSGIHandler, PathDispatch, machine_middleware, served_application
from orders.models import HookEvent
from tests.orders.conftest import hook_payload

URL = "/api/v1/webhooks/vtex/acme/orders/"


@contextmanager
def _connection_kept() -> Iterator[None]:
    # As Django's test client does: the start and end of a request must not close the test's
    # connection (it holds the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class Served:
    def __init__(self) -> None:
        self.app = served_application(WSGIHandler())

    def call(self, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, dict[str, str], bytes]:
        factory = RequestFactory()
        request = (
            factory.post(path, data=body, content_type="application/json", **headers)
            if method == "POST"
            else factory.get(path, **headers)
        )
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = {name.lower(): value for name, value in response_headers}

        with _connection_kept():
            result = self.app(request.environ, start_response)
            try:
                content = b"".join(result)
            finally:
                result.close()  # type: ignore[attr-defined]
        return answer["status"], answer["headers"], content

    def hook(self, payload: Any, token: str | None, **headers: str) -> tuple[int, dict[str, str], bytes]:
        if token is not None:
            headers["HTTP_X_HOOK_TOKEN"] = token
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.call("POST", URL, body, **headers)


@pytest.fixture
def served() -> Served:
    return Served()


def test_the_served_application_sends_the_hook_to_the_machine_chain() -> None:
    app = served_application(WSGIHandler())
    assert isinstance(app, PathDispatch)
    assert isinstance(app.machine, MachineWSGIHandler)


def test_the_machine_chain_is_the_configured_one_without_browser_middleware(settings: Any) -> None:
    chain = machine_middleware()
    assert chain == [path for path in settings.MIDDLEWARE if path not in settings.MACHINE_MIDDLEWARE_SKIPPED]
    for kept in (
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "core.request_context.RequestContextMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ):
        assert kept in chain
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in chain
    # What code adds to the configured chain at start (the tracing middleware) stays.
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.foundation.added.Middleware"]
    assert machine_middleware()[-1] == "tests.foundation.added.Middleware"


def test_building_the_machine_handler_leaves_the_configured_chain_alone(settings: Any) -> None:
    before = list(settings.MIDDLEWARE)
    handler = MachineWSGIHandler()
    assert list(settings.MIDDLEWARE) == before
    assert handler._middleware_chain is not None


def test_without_prefixes_the_served_application_is_django_s(settings: Any) -> None:
    settings.MACHINE_PATH_PREFIXES = []
    django_app = WSGIHandler()
    assert served_application(django_app) is django_app


@pytest.mark.django_db
def test_a_notification_is_stored_once_through_the_machine_chain(brand_a: Any, served: Served) -> None:
    status, headers, content = served.hook(hook_payload(), brand_a.hook_token)
    assert (status, json.loads(content)) == (200, {"ok": True, "duplicate": False})
    assert HookEvent.objects.filter(brand=brand_a).count() == 1
    # Kept: the request id. Skipped: the session, the page policies.
    assert headers["x-request-id"]
    assert "set-cookie" not in headers
    assert "content-security-policy" not in headers
    assert "x-frame-options" not in headers
    assert "cookie" not in headers.get("vary", "").lower()

    status, _, content = served.hook(hook_payload(), brand_a.hook_token)
    assert (status, json.loads(content)["duplicate"]) == (200, True)
    assert HookEvent.objects.filter(brand=brand_a).count() == 1


@pytest.mark.django_db
def test_refusals_keep_their_status_and_speak_the_sender_s_language(brand_a: Any, served: Served) -> None:
    status, _, content = served.hook(hook_payload(), "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert status == 401
    assert json.loads(content)["detail"] == "Missing or wrong X-Hook-Token."
    status, _, content = served.hook(hook_payload(), "wrong", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert status == 401
    assert json.loads(content)["detail"] == "X-Hook-Token ausente ou incorreto."

    padded = hook_payload()
    padded["Padding"] = "x" * (3 * 1024 * 1024)
    status, _, content = served.hook(padded, brand_a.hook_token)
    assert (status, json.loads(content)["code"]) == (413, "body_too_large")
    status, _, _ = served.call("GET", URL)
    assert status == 405
    assert not HookEvent.objects.exists()


@pytest.mark.django_db
def test_every_other_path_keeps_the_whole_chain(served: Served) -> None:
    status, headers, _ = served.call("GET", "/accounts/login/")
    assert status == 200
    assert "content-security-policy" in headers
    assert headers["x-frame-options"] == "DENY"
    assert "csrftoken" in headers.get("set-cookie", "")
