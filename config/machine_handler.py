"""Machine endpoints (VTEX's order hook) through a shorter middleware chain, same Django.

A notification from VTEX has no session, no user, no CSRF token, no page to frame or to give a
Content-Security-Policy, no static file to find and no HTMX header. Half of the request's cost
in the hook was the eighteen middlewares a browser needs (decision 0052), so requests under
`MACHINE_PATH_PREFIXES` go to a second `WSGIHandler` of the same process whose chain is
`settings.MIDDLEWARE` minus `MACHINE_MIDDLEWARE_SKIPPED`. Everything else about them is the
same: the URLconf, the view, its decorators, the database connection handling, metrics, the
request id and language of the kept middlewares. One implementation of the view; only what runs
around it differs.

Only the served applications dispatch this way (config/wsgi.py, config/asgi.py). Django's test
client loads the whole chain, so tests of the hook itself run through both
(tests/orders/test_hook_machine_chain.py drives the served application).
"""

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_loading = threading.Lock()


def machine_middleware() -> list[str]:
    """The chain machine endpoints get: the configured one without what only browsers need.
    Filtering (rather than a list of its own) keeps what other code adds at start, such as the
    tracing middleware, and the order of what stays."""
    skipped = set(settings.MACHINE_MIDDLEWARE_SKIPPED)
    return [path for path in settings.MIDDLEWARE if path not in skipped]


class MachineWSGIHandler(WSGIHandler):
    """Django's WSGI handler with `machine_middleware()` as its chain."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE and nothing else. This runs once, when
        # the process starts and before it serves; the lock keeps two handlers built at once (by
        # tests) from seeing each other's list.
        with _loading:
            configured = settings.MIDDLEWARE
            settings.MIDDLEWARE = machine_middleware()
            try:
                super().load_middleware(is_async)
            finally:
                settings.MIDDLEWARE = configured


class PathDispatch:
    """WSGI: requests under one of `prefixes` to `machine`, the rest to `default`."""

    def __init__(self, default: WSGIApp, machine: WSGIApp, prefixes: Sequence[str]) -> None:
        self.default, self.machine = default, machine
        self.prefixes = tuple(prefixes)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.prefixes and environ.get("PATH_INFO", "").startswith(self.prefixes):
            return self.machine(environ, start_response)
        return self.default(environ, start_response)


def served_application(default: WSGIApp) -> WSGIApp:
    """`default` (Django's WSGI application) with machine endpoints dispatched to their chain."""
    prefixes = tuple(settings.MACHINE_PATH_PREFIXES)
    if not prefixes:
        return default
    return PathDispatch(default, MachineWSGIHandler(), prefixes)
