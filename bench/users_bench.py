"""1,000 concurrent signed-in users (issue 18), served the way compose serves them, beside the
serving compose used before, in one run.

Each simulated person holds one keep-alive connection, acts once during the ramp (not counted:
a running site is warm) and then every 5–15 s (uniform), the first time at a moment drawn from
that rhythm's steady state, so the measured minute offers the steady load from its start
(bench/_load.py `paced_users`):
influencers open their portal (dashboard over a random period, orders, codes, earnings),
managers open the admin (dashboard, membership and link lists), and visitors click tracked
links (`/r/<slug>`). Offered load ≈ users / 10 s, whatever the server does.

Servers (one after the other, same data, same load):
- **now**: granian `--interface asgi config.asgi:application --workers 2 --backpressure 1024`,
  the click edge with Django's WSGI handler on `WEB_DJANGO_CONCURRENCY` threads per worker,
  psycopg's pool (`DATABASE_POOL_MAX_SIZE`), panels cached until their rollups move;
- **before** (`--baseline`): the click edge in front of Django's ASGI handler
  (bench/asgi_django.py), panels not cached (`PANEL_CACHE_SECONDS=0`), same pool and limits.

Reports per kind of request and overall: p50/p95/p99, errors (5xx or no answer), 503s, the
peak of PostgreSQL connections to the bench database (sampled every second from
pg_stat_activity) and load averages. Goal: p95 < 300 ms and 0 errors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm_bench_users REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/users_bench.py [--users 1000] [--seconds 60] [--baseline] [--port 18183]
"""

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    command_cpu_seconds,
    database_recreate,
    process_tree_cpu_seconds,
    stop,
    wait_for,
)

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_serving"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mgm_bench_users")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")

BROWSER = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Accept-Language": "pt-BR,pt;q=0.9",
}


def serve(app: str, *, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--backpressure", "1024", "--backlog", "2048", "--no-ws"]
    command += ["--log-level", "warning", app]
    return subprocess.Popen(command, start_new_session=True, cwd=ROOT, env={**os.environ, **env})


class ConnectionSampler(threading.Thread):
    """Peak number of PostgreSQL backends connected to the bench database, once a second."""

    def __init__(self, server: dict[str, Any], database: str) -> None:
        super().__init__(daemon=True)
        self.server, self.database = server, database
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(**self.server, dbname="postgres", autocommit=True) as admin:
            while not self.done.is_set():
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.database]
                ).fetchone()
                self.peak = max(self.peak, int(row[0]) if row else 0)
                self.done.wait(1.0)


def people_actions(people: Any, *, users: int, managers: int, visitors: int) -> list[Any]:
    brand = people.brand_slug
    portal = [f"/portal/{brand}/", f"/portal/{brand}/orders/", f"/portal/{brand}/codes/", f"/portal/{brand}/earnings/"]
    periods = ["", "?period=7d", "?period=30d", "?period=90d", "?period=month"]
    admin = ["/admin/", "/admin/affiliates/membership/", "/admin/tracking/link/", "/admin/orders/order/"]
    actions: list[Any] = []
    for i in range(users - managers - visitors):
        cookie = people.influencer_cookies[i % len(people.influencer_cookies)]

        def influencer(rng: random.Random, cookie: str = cookie) -> tuple[str, str, dict[str, str]]:
            page = rng.choice(portal)
            page += rng.choice(periods) if page.endswith(f"{brand}/") else ""
            return "portal", page, {**BROWSER, "Cookie": cookie}

        actions.append(influencer)
    for i in range(managers):
        cookie = people.manager_cookies[i % len(people.manager_cookies)]

        def manager(rng: random.Random, cookie: str = cookie) -> tuple[str, str, dict[str, str]]:
            return "admin", rng.choice(admin), {**BROWSER, "Cookie": cookie}

        actions.append(manager)
    for i in range(visitors):
        agent = f"{BROWSER['User-Agent']} v{i}"

        def visitor(rng: random.Random, agent: str = agent) -> tuple[str, str, dict[str, str]]:
            headers = {**BROWSER, "User-Agent": agent, "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
            return "click", f"/r/{rng.choice(people.link_slugs)}", headers

        actions.append(visitor)
    return actions


def run_one(
    name: str, app: str, env: dict[str, str], *, args: Any, actions: list[Any], server: dict[str, Any], database: str
) -> dict[str, Any]:
    from bench._load import paced_users

    process = serve(app, port=args.port, workers=args.workers, env=env)
    sampler = ConnectionSampler(server, database)
    try:
        wait_for(args.port, "/healthz", seconds=180)
        load_before = os.getloadavg()
        sampler.start()
        # Where the cores went: the server's processes, PostgreSQL's, and this load generator's.
        cpu_before = (process_tree_cpu_seconds(process.pid), command_cpu_seconds("postgres"), _own_cpu())
        started = time.perf_counter()
        run = asyncio.run(paced_users(port=args.port, users=actions, seconds=args.seconds, ramp=args.ramp))
        elapsed = time.perf_counter() - started
        cpu_after = (process_tree_cpu_seconds(process.pid), command_cpu_seconds("postgres"), _own_cpu())
        load_after = os.getloadavg()
    finally:
        sampler.done.set()
        stop(process)
    sampler.join(5)
    cores = [(after - before) / elapsed for before, after in zip(cpu_before, cpu_after, strict=True)]
    return {"name": name, "run": run, "load": (load_before, load_after), "pg_peak": sampler.peak, "cores": cores}


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--managers", type=int, default=50, help="of the users, staff in the admin")
    parser.add_argument("--visitors", type=int, default=250, help="of the users, anonymous clickers")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=20, help="seconds of uncounted first actions")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="WEB_DJANGO_CONCURRENCY")
    parser.add_argument("--pool", type=int, default=10, help="DATABASE_POOL_MAX_SIZE")
    parser.add_argument("--port", type=int, default=18183)
    parser.add_argument("--baseline", action="store_true", help="also run the serving compose used before")
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    import environ

    url = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    server = {
        k: v
        for k, v in {
            "host": url.get("HOST"),
            "port": url.get("PORT"),
            "user": url.get("USER"),
            "password": url.get("PASSWORD"),
        }.items()
        if v
    }
    database_recreate(url["NAME"], server=server, drop=args.fresh)

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench._portal_data import portal_people

    started = time.perf_counter()
    people = portal_people(influencers=args.users - args.managers - args.visitors, managers=args.managers)
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    actions = people_actions(people, users=args.users, managers=args.managers, visitors=args.visitors)
    common = {
        "DATABASE_POOL": "true",
        "WEB_DJANGO_CONCURRENCY": str(args.threads),
        "DATABASE_POOL_MAX_SIZE": str(args.pool),
    }
    runs = []
    if args.baseline:
        cache.clear()
        runs.append(
            run_one(
                "before: edge + Django ASGI, no panel cache",
                "bench.asgi_django:application",
                {**common, "PANEL_CACHE_SECONDS": "0"},
                args=args,
                actions=actions,
                server=server,
                database=url["NAME"],
            )
        )
    cache.clear()
    runs.append(
        run_one(
            "now: edge + WSGI bridge, panels cached",
            "config.asgi:application",
            common,
            args=args,
            actions=actions,
            server=server,
            database=url["NAME"],
        )
    )
    print(
        f"{args.users} users ({args.users - args.managers - args.visitors} influencers, {args.managers} managers, "
        f"{args.visitors} visitors), each acting every 5-15 s for {args.seconds:.0f} s; granian {args.workers} workers "
        f"x {args.threads} Django threads, pool max {args.pool} per worker"
    )
    print(
        f"{'server':<44}{'kind':<8}{'requests':>9}{'req/s':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'errors':>7}{'503':>5}"
        "  statuses"
    )
    for result in runs:
        run = result["run"]
        for kind in ("portal", "admin", "click", None):
            s = run.summary(kind)
            print(
                f"{result['name']:<44}{kind or 'all':<8}{s['requests']:>9}{s['rps']:>7.1f}{s['p50']:>8.1f}"
                f"{s['p95']:>8.1f}{s['p99']:>8.1f}{s['errors']:>7}{s['status_503']:>5}"
                f"  {dict(sorted(Counter(r.status for r in run.results if kind in (None, r.kind)).items()))}"
            )
        overall = run.summary()
        print(
            f"  {result['name']}: p95 per 10 s: "
            + ", ".join(f"{start:.0f}s {p95:.0f} ms ({n})" for start, n, p95 in run.timeline())
        )
        server_cores, postgres_cores, bench_cores = result["cores"]
        print(
            f"  {result['name']}: cores busy: server {server_cores:.2f} "
            f"({server_cores * 1000 / max(overall['rps'], 1e-9):.1f} ms of CPU per request), "
            f"PostgreSQL {postgres_cores:.2f}, load generator {bench_cores:.2f} (of {os.cpu_count()})"
        )
        verdict = "OK" if overall["p95"] < 300 and overall["errors"] == 0 else "NOT MET"
        print(
            f"  {result['name']}: PostgreSQL connections peak {result['pg_peak']}; load average before "
            f"{tuple(round(x, 2) for x in result['load'][0])}, after {tuple(round(x, 2) for x in result['load'][1])}; "
            f"goal p95 < 300 ms, 0 errors: {verdict}"
        )


if __name__ == "__main__":
    main()
