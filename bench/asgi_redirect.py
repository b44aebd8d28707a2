"""ASGI entry point of bench/redirect_bench.py: the project's ASGI application (the click edge
in front of Django, config/asgi.py) with the bench URLs (the bare Django redirect), plus the
server-side count of valid clicks served: one byte per `X-MGM-Click: valid` response, appended
to `MGM_BENCH_SERVED_FILE` as bench/wsgi_redirect.py does.

The bytes are counted in memory and appended at most 20 ms after the click (a timer on the
worker's loop) and at lifespan shutdown, not one `write` per click: the instrument must not
cost the edge a system call per request it measures. The bench waits longer than that before
it reads or resets the file."""

import asyncio
import os
from typing import Any

from config.asgi import application as project_application

_served = os.open(os.environ["MGM_BENCH_SERVED_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
_FLUSH_SECONDS = 0.02
_VALID = (b"x-mgm-click", b"valid")
_pending = 0


def _flush() -> None:
    global _pending
    count, _pending = _pending, 0
    if count:
        os.write(_served, b"." * count)


def _count_one() -> None:
    global _pending
    _pending += 1
    if _pending == 1:
        asyncio.get_running_loop().call_later(_FLUSH_SECONDS, _flush)


async def application(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":

        async def flushing_receive() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                _flush()
            return message

        await project_application(scope, flushing_receive, send)
        return
    if scope["type"] != "http":
        await project_application(scope, receive, send)
        return

    async def counting_send(message: Any) -> None:
        if message["type"] == "http.response.start" and _VALID in message["headers"]:
            _count_one()
        await send(message)

    await project_application(scope, receive, counting_send)
