"""WSGI entry point of bench/redirect_bench.py: the project's application, plus a server-side
count of the valid clicks served. Each response that carries `X-MGM-Click: valid` appends one
byte to `MGM_BENCH_SERVED_FILE` (O_APPEND: atomic across worker processes), so requests the
load generator abandoned at the end of a run (in flight, their click already buffered) are
counted too. Costs one small write per valid click; the bare view never pays it."""

import os
from collections.abc import Callable, Iterable
from typing import Any

from config.wsgi import application as django_application

_served = os.open(os.environ["MGM_BENCH_SERVED_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    def counting_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        if ("X-MGM-Click", "valid") in headers:
            os.write(_served, b".")
        return start_response(status, headers, *args)

    return django_application(environ, counting_start_response)
