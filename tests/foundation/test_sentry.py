"""Sentry is exercised: an unhandled error of a request reaches a local fake Sentry (the DSN
points at it; it receives the SDK's envelope POST) with the exception, and without the personal
data that was in the request body, the cookies, the headers and the frames' local variables."""

import gzip
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from django.core.wsgi import get_wsgi_application
from django.test import RequestFactory

from config.sentry import sentry_init

PII = ["ana@example.com", "1020304050", "Ana Torres", "+57 300 123 4567", "ana.pix@example.com", "s3cr3t-pass"]


def _port() -> int:
    # 8203 for a lone process, 8204/8205 for the two xdist workers.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return 8203 + (1 + int(worker[2:]) if worker.startswith("gw") else 0)


class FakeSentry(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", _port()), _Handler)
        self.envelopes: list[tuple[str, bytes]] = []
        self.received = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: FakeSentry

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append((self.path, body))
        self.server.received.set()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    server = FakeSentry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sentry_init(dsn=f"http://publickey@127.0.0.1:{server.server_port}/42", environment="test")
    try:
        yield server
    finally:
        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.init()  # no DSN: Sentry off again for the other tests
        server.shutdown()
        server.server_close()


def _events(server: FakeSentry) -> list[dict[str, Any]]:
    events = []
    for _path, body in server.envelopes:
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


@pytest.mark.urls("tests.foundation.sentry_urls")
def test_an_unhandled_error_reaches_sentry_without_personal_data(fake_sentry, transactional_db):
    # Through the WSGI application, as granian serves it (the test Client skips the WSGI layer
    # Sentry's Django integration reads the request from).
    request = RequestFactory().post(
        "/fails/",
        {
            "email": "ana@example.com",
            "document_number": "1020304050",
            "password": "s3cr3t-pass",
            "full_name": "Ana Torres",
            "phone": "+57 300 123 4567",
            "pix_key": "ana.pix@example.com",
        },
        headers={
            "authorization": "Api-Key s3cr3t-pass",
            "x-forwarded-for": "203.0.113.7",
            "cookie": "sessionid=session-of-ana",
        },
    )
    statuses: list[str] = []
    b"".join(get_wsgi_application()(request.environ, lambda status, headers, *exc: statuses.append(status)))
    assert statuses[0].startswith("500")
    sentry_sdk.flush(timeout=5)
    assert fake_sentry.received.wait(5), "nothing reached the fake Sentry"

    path, raw = fake_sentry.envelopes[0]
    assert path == "/api/42/envelope/"
    [event] = _events(fake_sentry)
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"].startswith("payout failed for influencer #")
    assert event["environment"] == "test"
    assert event["request"]["url"].endswith("/fails/")

    text = raw.decode()
    leaked = [value for value in PII if value in text]
    assert not leaked, f"personal data reached Sentry: {leaked}"
    assert "session-of-ana" not in text
    assert "203.0.113.7" not in text
    # The frames' locals are there (useful), their personal values are not.
    frame = exception["stacktrace"]["frames"][-1]
    assert frame["function"] == "fails"
    assert frame["vars"]["email"] == "[Filtered]"
    assert frame["vars"]["profile"]["phone"] == "[Filtered]"


def test_without_a_dsn_nothing_is_sent(db):
    assert sentry_sdk.get_client().transport is None
