"""A local webhook receiver: an HTTP server in a thread that verifies each request with the
`standardwebhooks` library (as a brand's system would) and answers the status it is told."""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# The orders fixtures (a brand with a running campaign, an influencer and their code).
from tests.orders.conftest import campaign_a, code_maria, maria, setup  # noqa: F401


@dataclass
class Receiver:
    url: str
    secret: str = ""
    status: int = 204
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def _port(offset: int) -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    return 19010 + index * 20 + offset


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(state.secret).verify(body, headers)
            except WebhookVerificationError as exc:
                state.rejected.append(str(exc))
                self.send_response(401)
                self.end_headers()
                return
            state.received.append({"headers": headers, "payload": payload})
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = None
    for offset in range(10):
        try:
            server = ThreadingHTTPServer(("127.0.0.1", _port(offset)), Handler)
            break
        except OSError:
            continue
    assert server is not None, "no free port for the receiver"
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
