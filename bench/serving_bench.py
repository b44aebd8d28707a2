"""Serving benchmark: the same Django pages served three ways, one after the other, in one run.

1. granian `--interface wsgi config.wsgi:application` (WSGI, the baseline: what granian's WSGI
   interface costs);
2. granian `--interface asgi`, the click edge in front of Django's ASGI handler (what compose
   served before: bench/asgi_django.py);
3. granian `--interface asgi config.asgi:application`: the click edge in front of Django's WSGI
   handler on a bounded thread pool (config/wsgi_bridge.py), what compose serves now.

Pages: a signed-in influencer's portal dashboard (session, rollups, template), the public
sign-in page (no database) and a click on a tracked link (`/r/<slug>`: Django's view under
WSGI, the click edge under ASGI). Closed loop, N keep-alive connections, the servers interleaved in
rounds. Prints req/s, p50/p95/p99 and the CPU each server's processes spent per request, with
its ratio to the WSGI baseline, and load averages (the machine is shared: CPU per request is the
comparable figure, latency depends on what else runs).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm_bench_serving REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/serving_bench.py [--seconds 10] [--connections 8] [--port-base 18180]
"""

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import database_recreate, percentile, process_tree_cpu_seconds, stop, wait_for  # noqa: E402

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_serving"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mgm_bench_serving")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")


def serve(interface: str, app: str, *, port: int, threads: int) -> subprocess.Popen[bytes]:
    """One granian worker, as a compose web process runs it (pool on, `threads` Django threads)."""
    command = [sys.executable, "-m", "granian", "--interface", interface, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--no-ws", "--log-level", "warning", "--backpressure", "1024"]
    if interface == "wsgi":
        command += ["--blocking-threads", str(threads)]
    env = {**os.environ, "DATABASE_POOL": "true", "WEB_DJANGO_CONCURRENCY": str(threads)}
    return subprocess.Popen([*command, app], start_new_session=True, cwd=ROOT, env=env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4, help="per server, page and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port-base", type=int, default=18180)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    import environ

    url = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    server = {
        "host": url.get("HOST"),
        "port": url.get("PORT"),
        "user": url.get("USER"),
        "password": url.get("PASSWORD"),
    }
    database_recreate(url["NAME"], server=server, drop=args.fresh)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench._load import closed_loop
    from bench._portal_data import portal_people

    people = portal_people(influencers=20)
    pages = {
        "portal dashboard (signed in)": (f"/portal/{people.brand_slug}/", {"Cookie": people.influencer_cookies[0]}),
        "sign-in page (public)": ("/accounts/login/", {}),
        # Under WSGI Django's view answers it; under ASGI the click edge does, before Django.
        "click /r/<slug>": (
            f"/r/{people.link_slugs[0]}",
            {
                "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15",
                "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Dest": "document",
            },
        ),
    }
    servers = [
        ("granian WSGI (baseline)", "wsgi", "config.wsgi:application"),
        ("ASGI: edge + Django ASGI (before)", "asgi", "bench.asgi_django:application"),
        ("ASGI: edge + WSGI bridge (now)", "asgi", "config.asgi:application"),
    ]
    processes = [
        serve(interface, app, port=args.port_base + i, threads=args.threads)
        for i, (_name, interface, app) in enumerate(servers)
    ]
    # Rounds interleave the servers, so load from other work on the machine falls on all alike;
    # CPU per request (the server's process tree) is the figure that load does not distort.
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    load_before = os.getloadavg()
    try:
        for i in range(len(servers)):
            wait_for(args.port_base + i, "/healthz", seconds=180)
        for round_ in range(args.rounds + 1):
            for i, (name, _interface, _app) in enumerate(servers):
                for page, (path, headers) in pages.items():
                    cpu_before = process_tree_cpu_seconds(processes[i].pid)
                    run = asyncio.run(
                        closed_loop(
                            port=args.port_base + i,
                            path=path,
                            headers=headers,
                            connections=args.connections,
                            seconds=args.seconds,
                        )
                    )
                    cpu = process_tree_cpu_seconds(processes[i].pid) - cpu_before
                    print(f"round {round_} {name} {page}: {len(run.results)} answers", file=sys.stderr, flush=True)
                    if round_ == 0:
                        continue  # warm-up: imports, templates, pooled connections
                    row = totals.setdefault((name, page), {"ms": [], "cpu": 0.0, "seconds": 0.0, "statuses": set()})
                    row["ms"] += [r.ms for r in run.results]
                    row["cpu"] += cpu
                    row["seconds"] += run.seconds
                    row["errors"] = row.get("errors", 0) + run.summary()["errors"]
                    row["statuses"] |= {r.status for r in run.results}
    finally:
        for process in processes:
            stop(process)
    print(
        f"load average before {load_before}, after {os.getloadavg()}; {args.connections} connections, "
        f"{args.threads} Django threads, 1 granian worker each, {args.rounds} interleaved rounds of {args.seconds:.0f} s"
    )
    print(
        f"{'server':<36}{'page':<30}{'req/s':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'err':>5}"
        f"{'CPU ms/req':>11}{'CPU vs WSGI':>12}  statuses"
    )
    base_cpu: dict[str, float] = {}
    for (name, page), row in totals.items():
        n = len(row["ms"])
        cpu_ms = 1000 * row["cpu"] / n if n else float("nan")
        if name.startswith("granian WSGI"):
            base_cpu[page] = cpu_ms
        ratio = cpu_ms / base_cpu[page] if base_cpu.get(page) else float("nan")
        print(
            f"{name:<36}{page:<30}{n / row['seconds']:>7.0f}{percentile(row['ms'], 0.5):>7.1f}"
            f"{percentile(row['ms'], 0.95):>7.1f}{percentile(row['ms'], 0.99):>7.1f}{row['errors']:>5}"
            f"{cpu_ms:>11.2f}{ratio:>11.2f}x  {sorted(row['statuses'])}"
        )


if __name__ == "__main__":
    main()
