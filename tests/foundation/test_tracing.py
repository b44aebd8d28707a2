"""OpenTelemetry tracing (config/tracing.py): off by default; when on, a process exports spans of
its Django requests, Celery tasks, PostgreSQL queries and outgoing HTTP calls over OTLP/HTTP, with
no query strings and no SQL parameters.

The traced process is a separate Python process (tracing installs process-wide hooks: a tracer
provider that can be set once, a middleware, patched drivers), pointed at the test database and
at a local OTLP receiver started here; the test decodes the protobuf requests that arrive."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from config.tracing import tracing_from_settings, url_without_query

SECRETS = ("secret-token-xyz", "sig=abc123", "secret-param-123")


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            self.server.bodies.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"pong")

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def otlp_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _spans(bodies: list[bytes]) -> list[dict[str, Any]]:
    spans = []
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {}
                    for attribute in span.attributes:
                        value = attribute.value
                        attributes[attribute.key] = value.string_value or value.int_value or value.bool_value
                    spans.append(
                        {
                            "name": span.name,
                            "kind": span.kind,
                            "trace_id": span.trace_id.hex(),
                            "parent": span.parent_span_id.hex(),
                            "attributes": attributes,
                            "resource": resource,
                        }
                    )
    return spans


TRACED_PROCESS = textwrap.dedent(
    """
    import os
    import django
    from config.tracing import tracing_from_settings

    assert tracing_from_settings() is True
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]  # what pytest-django does for the test process
    django.setup()

    import requests
    from django.db import connection
    from django.test import Client
    from opentelemetry import trace

    from config.celery import app

    client = Client(raise_request_exception=False)
    client.get("/accounts/login/?next=/portal/&token=secret-token-xyz")
    client.get("/healthz")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", ["secret-param-123"])
    requests.get(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] + "/ping?sig=abc123", timeout=5)


    @app.task(name="tracing_probe")
    def tracing_probe():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return 1


    assert tracing_probe.apply().get() == 1
    assert trace.get_tracer_provider().force_flush(10_000)
    print("traced")
    """
)


def test_tracing_is_off_by_default():
    assert settings.OTEL_ENABLED is False
    assert tracing_from_settings() is False
    assert not any("opentelemetry" in middleware for middleware in settings.MIDDLEWARE)


def test_url_without_query_keeps_scheme_host_and_path():
    assert url_without_query("https://vtex.example/api/oms/pvt/orders/1?an=x&sig=y") == (
        "https://vtex.example/api/oms/pvt/orders/1"
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_traced_process_exports_request_task_query_and_http_spans(otlp_receiver):
    if connection.vendor != "postgresql":
        pytest.skip("psycopg spans need PostgreSQL")
    database = connection.settings_dict
    endpoint = f"http://127.0.0.1:{otlp_receiver.server_port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
            f"/{database['NAME']}"
        ),
        "OTEL_ENABLED": "true",
        "OTEL_SERVICE_NAME": "mgm-test",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_TRACES_SAMPLE_RATIO": "1.0",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", TRACED_PROCESS],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "traced" in result.stdout

    spans = _spans(otlp_receiver.bodies)
    assert spans, "no span reached the receiver"
    assert {span["resource"]["service.name"] for span in spans} == {"mgm-test"}

    requests_in = [s for s in spans if s["kind"] == 2]  # SERVER
    assert len(requests_in) == 1, [s["name"] for s in requests_in]  # /healthz is not traced
    login = requests_in[0]
    assert login["name"].startswith("GET")
    assert "/accounts/login/" in json.dumps(login["attributes"])

    queries = [s for s in spans if s["attributes"].get("db.system") == "postgresql"]
    assert any("SELECT" in str(s["attributes"].get("db.statement", "")) for s in queries)

    outgoing = [s for s in spans if s["kind"] == 3]  # CLIENT, requests' span (psycopg's are CLIENT too)
    assert any("/ping" in json.dumps(s["attributes"]) for s in outgoing)

    task = next(s for s in spans if "tracing_probe" in s["name"])
    assert any(q["trace_id"] == task["trace_id"] and q is not task for q in queries), (
        "the task's query belongs to the task's trace"
    )

    exported = json.dumps(spans)
    for secret in SECRETS:
        assert secret not in exported
