"""ASGI entry point of bench/redirect_bench.py: the project's ASGI application (the click edge
in front of Django, config/asgi.py) with the bench URLs (the bare Django redirect), plus the
server-side count of valid clicks served (one byte per `X-MGM-Click: valid` response appended
to `MGM_BENCH_SERVED_FILE`, as bench/wsgi_redirect.py does)."""

import os
from typing import Any

from config.asgi import application as project_application

_served = os.open(os.environ["MGM_BENCH_SERVED_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)


async def application(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        await project_application(scope, receive, send)
        return

    async def counting_send(message: Any) -> None:
        if message["type"] == "http.response.start" and (b"x-mgm-click", b"valid") in message.get("headers", []):
            os.write(_served, b".")
        await send(message)

    await project_application(scope, receive, counting_send)
